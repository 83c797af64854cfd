#!/usr/bin/env bash
# Runs every fuzz target for a fixed budget, one after another; fails on the first crash.
#
#   fuzz/run.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Works with the stable toolchain: cargo-fuzz needs nightly-only rustc flags, which
# RUSTC_BOOTSTRAP=1 unlocks. Installs cargo-fuzz from crates.io when it is missing.
# Corpora are kept in fuzz/corpus/<target> (seeded from fuzz/seeds/<target> when present),
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

summary=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    seeds=()
    if [ -d "seeds/$t" ]; then seeds=("seeds/$t"); fi
    echo "=== $t: building"
    cargo fuzz build "$t"
    echo "=== $t: fuzzing for ${budget}s"
    log="artifacts/$t/run.log"
    start=$(date +%s)
    if cargo fuzz run "$t" "corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$budget" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
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
        echo "crash input(s): $(ls artifacts/$t | grep -v run.log || true)" >&2
        exit 1
    fi
done
printf '%s\n' "${summary[@]}" | tee last-run.txt
