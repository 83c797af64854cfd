#!/usr/bin/env bash
# One load run of the reference CSMS: `csms serve` (release build) on a fresh database, loaded
# by `ocpp-sim` from the same machine; prints the simulator's summary and the CSMS's resident
# memory and CPU use, and leaves everything in $OUT (default /tmp/ocpp-load-<backend>).
#
#   benches/load/run.sh sqlite   [STATIONS] [DURATION_S]
#   benches/load/run.sh postgres [STATIONS] [DURATION_S]   # PG_URL, default postgres://postgres@127.0.0.1:5432
#
# Build first: cargo build --release -p csms-reference -p examples
set -euo pipefail
backend=${1:?sqlite or postgres}
stations=${2:-10000}
duration=${3:-180}
rate=${RATE:-200}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$root/target/release}
out=${OUT:-/tmp/ocpp-load-$backend}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
mkdir -p "$out"
rm -f "$out"/csms.db* "$out"/samples.txt

ulimit -n "$(ulimit -Hn)"
case $backend in
  sqlite) db="sqlite:$out/csms.db" ;;
  postgres)
    host=${pg#*@}; host=${host%%:*}
    psql -q -h "$host" -U postgres -c 'DROP DATABASE IF EXISTS load' -c 'CREATE DATABASE load'
    db="$pg/load" ;;
  *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac

CSMS_LOG=${CSMS_LOG:-warn} "$bin/csms" serve --database-url "$db" \
  --ocpp-listen 0.0.0.0:19000 --api-listen 127.0.0.1:19001 --heartbeat-interval 300 \
  >"$out/csms.out" 2>"$out/csms.err" &
csms=$!
trap 'kill $csms 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q 19000 "$out/csms.out" 2>/dev/null && break
  sleep 0.1
done

# Two listener addresses: each gives the stations another range of ephemeral ports.
"$bin/ocpp-sim" --url ws://127.0.0.1:19000/ocpp,ws://127.0.0.2:19000/ocpp \
  --stations "$stations" --versions 1.6,2.0.1,2.1 --ratio 2:1:1 --connect-rate "$rate" \
  --scenario charging --heartbeat 60s --interval 10s --session 120s --pause 60s \
  --duration "${duration}s" --quiet --json --report "$out/sim.json" >"$out/sim.out" 2>"$out/sim.err" &
sim=$!

# Once a second: RSS (kB) and utime+stime (clock ticks) of the CSMS and of the simulator.
stat() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
t0=$(date +%s.%N)
rm -f "$out/store-timeline.txt"
while kill -0 $sim 2>/dev/null; do
  echo "$(date +%s.%N) $(rss $csms) $(stat $csms) $(rss $sim) $(stat $sim)" >>"$out/samples.txt"
  # The CSMS's store-time histogram (summed over actions), for the store time second by second.
  { curl -s -m 2 http://127.0.0.1:19001/metrics 2>/dev/null || true; } | awk -v t="$(date +%s.%N)" '
    /^csms_store_duration_seconds_bucket/ { split($0, a, "le=\""); split(a[2], b, "\""); n[b[1]] += $NF }
    END { printf "%s", t; for (k in n) printf " %s=%d", k, n[k]; print "" }' >>"$out/store-timeline.txt" || true
  sleep 1
done
wait $sim || true
# The CSMS's own view: time to store each message (csms_store_duration_seconds, from asking
# for the unit of work to its commit), before it stops.
curl -s http://127.0.0.1:19001/metrics >"$out/metrics.txt" 2>/dev/null || true
kill $csms; wait $csms 2>/dev/null || true
trap - EXIT

# The steady window: from when every station was started (+5 s) to the end of the load.
python3 - "$out" "$t0" "$stations" "$rate" "$duration" "$backend" <<'PY'
import json, sys, os
out, t0, n, rate, dur, backend = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
hz = os.sysconf("SC_CLK_TCK")
rows = [list(map(float, l.split())) for l in open(f"{out}/samples.txt") if len(l.split()) == 5]
start, end = t0 + n / rate + 5, t0 + dur
w = [r for r in rows if start <= r[0] <= end]
cpu = lambda i: (w[-1][i] - w[0][i]) / hz / (w[-1][0] - w[0][0]) * 100 if len(w) > 1 else float("nan")
peak = max(r[1] for r in rows)
s = json.load(open(f"{out}/sim.json"))
res = {
    "backend": backend,
    "stations": s["stations"],
    "callsPerSecond": s["callsPerSecond"],
    "messagesPerSecond": s["messagesPerSecond"],
    "latencyMs": s["latencyMs"],
    "rampLatencyMs": s.get("rampLatencyMs"),
    "steadyLatencyMs": s.get("steadyLatencyMs"),
    "teardownLatencyMs": s.get("teardownLatencyMs"),
    "latencyTimelineMs": s.get("latencyTimelineMs"),
    "callErrorsTotal": s["callErrorsTotal"],
    "lost": s["lost"],
    "transactions": s["transactions"],
    "csms": {"peakRssMiB": round(peak / 1024, 1), "rssPerStationKiB": round(peak / s["stations"]["peakOnline"], 1) if s["stations"]["peakOnline"] else None,
             "cpuPercentSteady": round(cpu(2), 1), "steadyWindowSeconds": round(w[-1][0] - w[0][0], 1) if w else 0},
    "simulator": {"peakRssMiB": round(max(r[3] for r in rows) / 1024, 1), "cpuPercentSteady": round(cpu(4), 1)},
}
# Store time over every message of the run, from the CSMS's histogram (bucket bounds: the
# share of messages stored within 1, 5, 10, 25, 50, 100, 250 ms, 1, 5, 30 s).
try:
    buckets, total, count = {}, 0.0, 0
    for line in open(f"{out}/metrics.txt"):
        if line.startswith("csms_store_duration_seconds_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets[le] = buckets.get(le, 0) + int(float(line.split()[-1]))
        elif line.startswith("csms_store_duration_seconds_sum"):
            total += float(line.split()[-1])
        elif line.startswith("csms_store_duration_seconds_count"):
            count += int(float(line.split()[-1]))
    if count:
        res["csmsStore"] = {"messages": count, "meanMs": round(total / count * 1000, 2),
                            "withinMs": {str(round(float(k) * 1000)): round(v / count, 4) for k, v in buckets.items() if k != "+Inf"}}
except OSError:
    pass
json.dump(res, open(f"{out}/result.json", "w"), indent=2)
print(json.dumps(res, indent=2))
PY
