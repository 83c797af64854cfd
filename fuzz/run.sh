#!/usr/bin/env bash
# Runs every fuzz target for a fixed budget, one after another; fails on the first crash.
#
#   fuzz/run.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Works with the stable toolchain: cargo-fuzz needs nightly-only rustc flags, which
# RUSTC_BOOTSTRAP=1 unlocks. Installs cargo-fuzz from crates.io when it is missing.
# Corpora are kept in fuzz/corpus/<target> (seeded when empty, see seed() below),
# crashes land in fuzz/artifacts/<target>; a summary line per target is printed at the end
# and written to fuzz/last-run.txt.
set -euo pipefail

cd "$(dirname "$0")"
budget="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(frame_parse json_parser dispatch_v16 dispatch_v201 dispatch_v21 engine ocpi_parse tariff)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

# Seeds: written into an empty corpus so that a short budget still reaches deep code paths.
# OCPI objects and tariffs come from the specification's examples in ../../shared/ocpi (when
# present; they are not copied into this repository); OCPP payloads are a few of our own.
shared="${OCPI_EXAMPLES_DIR:-../../shared/ocpi/examples-2.2.1}"
seed_ocpi() { # selector-byte file-glob
    local sel="$1" glob="$2" f
    for f in $shared/$glob; do
        [ -f "$f" ] || continue
        { printf "\\x$sel"; tr -d '\n\r' <"$f"; } >"corpus/ocpi_parse/$(basename "$f")"
    done
}
seed_dispatch() { # target action payload...
    local t="$1" a="$2" i=0
    shift 2
    for p in "$@"; do
        i=$((i + 1))
        { printf '\xf0\x00%s\n' "$a"; printf '%s' "$p"; } >"corpus/$t/seed-$a-$i"
        { printf '\xf0\x01%s\n' "$a"; printf '%s' "$p"; } >"corpus/$t/seed-$a-$i-lenient"
    done
}
seed() {
    local t="$1"
    [ -z "$(ls -A "corpus/$t")" ] || return 0
    local T='"2025-01-01T00:00:00.120+01:00"'
    case "$t" in
    frame_parse)
        printf '[2,"1","BootNotification",{"a":[1,2.50,null]}]' >corpus/$t/call
        printf '[3,"1",{}]' >corpus/$t/result
        printf '[4,"1","FormationViolation","d",{}]' >corpus/$t/error
        printf '[5,"1","FormatViolation","d",{}]' >corpus/$t/result_error
        printf '[6,"1","NotifyPeriodicEventStream",{}]' >corpus/$t/send
        printf '[2, 42]' >corpus/$t/bad_id ;;
    json_parser)
        printf '{"a":[1,-2.5e3,true,false,null,"\\u00e9\\ud83d\\ude00\\n"],"b":{}}' >corpus/$t/doc ;;
    dispatch_v16)
        seed_dispatch $t BootNotification '{"chargePointVendor":"ACME","chargePointModel":"W1","meterType":"x"}' \
            "{\"status\":\"Accepted\",\"currentTime\":$T,\"interval\":60}"
        seed_dispatch $t MeterValues "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":$T,\"sampledValue\":[{\"value\":\"1.50\",\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"}]}]}"
        seed_dispatch $t SetChargingProfile '{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.5}]}}}' ;;
    dispatch_v201 | dispatch_v21)
        seed_dispatch $t BootNotification '{"chargingStation":{"model":"W1","vendorName":"ACME","customData":{"vendorId":"x","k":[1]}},"reason":"PowerUp"}' \
            "{\"currentTime\":$T,\"interval\":60,\"status\":\"Accepted\"}"
        seed_dispatch $t TransactionEvent "{\"eventType\":\"Updated\",\"timestamp\":$T,\"triggerReason\":\"MeterValuePeriodic\",\"seqNo\":3,\"transactionInfo\":{\"transactionId\":\"tx1\"},\"meterValue\":[{\"timestamp\":$T,\"sampledValue\":[{\"value\":12.345}]}]}"
        seed_dispatch $t SetVariables '{"setVariableData":[{"attributeValue":"5","component":{"name":"C","evse":{"id":1}},"variable":{"name":"V"}}]}' ;;
    ocpi_parse)
        seed_ocpi 00 'location_*example*.json'
        seed_ocpi 03 'session_example_*.json'
        seed_ocpi 04 'cdr_example.json'
        seed_ocpi 05 'tariff_*.json'
        seed_ocpi 06 'token_example_*.json'
        seed_ocpi 07 'credentials_example*.json'
        seed_ocpi 19 'version_details_example*.json'
        seed_ocpi 1c 'transport_and_format_*.json'
        printf '\x1dToken IWxhYmVs' >corpus/$t/auth ;;
    tariff)
        local cdr="$shared/cdr_example.json" f
        [ -f "$cdr" ] || return 0
        for f in $shared/tariff_*.json; do
            { tr -d '\n\r' <"$f"; printf '\n'; tr -d '\n\r' <"$cdr"; } >"corpus/$t/$(basename "$f")"
        done ;;
    esac
}

summary=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    seed "$t"
    echo "=== $t: building"
    cargo fuzz build "$t"
    echo "=== $t: fuzzing for ${budget}s"
    log="artifacts/$t.log"
    rm -f "$log"
    start=$(date +%s)
    if cargo fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$budget" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        status=ok
    elif ls "artifacts/$t" | grep -qE '^(crash|leak|timeout|oom)-'; then
        status=CRASH
    else
        status=FAILED # the build or libFuzzer itself failed; see the log
    fi
    secs=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    cov=$(grep -oE '(#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)[[:space:]]+cov: [0-9]+ ft: [0-9]+)' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    corpus=$(ls "corpus/$t" | wc -l)
    line="$t: $status, ${secs}s, execs ${execs:-?}, ${cov:-cov ?}, corpus $corpus"
    echo "$line"
    summary+=("$line")
    if [ "$status" != ok ]; then
        tail -60 "$log"
        printf '%s\n' "${summary[@]}" > last-run.txt
        echo "crash input(s): $(ls artifacts/$t || true)" >&2
        exit 1
    fi
done
printf '%s\n' "${summary[@]}" | tee last-run.txt
