#!/usr/bin/env bash
# Runs each fuzz target in turn, one at a time, for SECONDS seconds (default 60), then
# prints its figures: executions, executions per second, corpus size, peak memory, and
# crashes (written under fuzz/artifacts/<target>/).
#
#   fuzz/run.sh [SECONDS] [TARGET...]        # default: every target, 60 s each
#   KEEP_GOING=1 fuzz/run.sh 600             # go on after a crash (libFuzzer -fork=1)
#
# By default libFuzzer stops at the first crash. With KEEP_GOING=1 it runs in fork mode
# with one worker (still one core): a crash, out-of-memory or timeout is recorded and the
# run goes on, so a known crash does not end a long run.
#
# Corpus: fuzz/corpus/<target>/ (grows, not committed), started from the committed seeds in
# fuzz/seeds/<target>/. Logs: fuzz/logs/<target>.log. Build first with fuzz/build.sh.
# Memory: -rss_limit_mb=2048 and -malloc_limit_mb=1024: an input that makes a target hold
# more than 2 GiB, or ask for 1 GiB at once, is reported as a crash (out-of-memory).
# Time: an input taking more than 30 s is reported as a crash (timeout).
set -uo pipefail
cd "$(dirname "$0")/.."

export RUSTC_BOOTSTRAP=1
seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(sync_frame signed_change feed_load invite)
fi
mode=()
if [ "${KEEP_GOING:-0}" = 1 ]; then
    mode=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
fi

stat() { grep -o "stat::$1: *[0-9]*" "$2" | tail -1 | awk '{print $2}'; }

mkdir -p fuzz/logs
status=0
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    log="fuzz/logs/$target.log"
    before=$(find "fuzz/artifacts/$target" -type f | wc -l)
    echo "=== $target: ${seconds}s from $(date -u +%FT%TZ) ${mode[*]}"
    cargo fuzz run --debug-assertions "$target" \
        "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30 "${mode[@]}" \
        >"$log" 2>&1
    rc=$?
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    execs=$(stat number_of_executed_units "$log")
    rate=$(stat average_exec_per_sec "$log")
    rss=$(stat peak_rss_mb "$log")
    # Fork mode prints no final stats: the last status line has the figures.
    [ -n "$execs" ] || execs=$(echo "$last" | sed -E 's/^#([0-9]+).*/\1/')
    [ -n "$rate" ] || rate=$(echo "$last" | grep -oE 'exec/s:? [0-9]+' | awk '{print $2}')
    [ -n "$rss" ] || rss=$(echo "$last" | grep -oE 'rss: [0-9]+' | awk '{print $2}')
    corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
    cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | awk '{print $2}')
    after=$(find "fuzz/artifacts/$target" -type f | wc -l)
    echo "executions: ${execs:-?}"
    echo "exec/s: ${rate:-?}"
    echo "corpus: $corpus files in fuzz/corpus/$target (coverage: ${cov:-?} edges)"
    echo "peak rss: ${rss:-?} MB"
    echo "new artifacts: $((after - before)) in fuzz/artifacts/$target"
    if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ]; then
        status=1
        echo "CRASH (exit $rc):"
        grep -E 'oom/timeout/crash' "$log" | tail -1
        grep -E 'panicked at|^==[0-9]+==ERROR|out-of-memory|Test unit written' "$log" |
            sort | uniq -c | sort -rn | head -10
    else
        echo "crashes: none"
    fi
done
exit "$status"
