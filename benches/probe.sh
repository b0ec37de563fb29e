#!/usr/bin/env bash
# Instructions per call of memocache's hits and misses, and of a `Mutex<lru::LruCache>`, under
# callgrind (BENCHMARKS.md quotes these counts): benches/probe.rs runs one mode for 200 000 and
# for 1 200 000 calls after the same warm-up, and the difference of the two runs' instruction
# counts, over 1 000 000, is one call's.
#
# Usage: benches/probe.sh                    every mode, one run each
#        RUNS=3 benches/probe.sh zipf miss   these modes, 3 runs each (and their median)
# Needs valgrind; prints "skipped: valgrind not found" without it. About 20 s a run of zipf.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
    echo "skipped: valgrind not found"
    exit 0
fi
RUNS="${RUNS:-1}"
modes=("$@")
[[ ${#modes[@]} -eq 0 ]] && modes=(hit_u64 hit_str hit_ttl async_hit miss miss_lru zipf zipf_lru all_hits all_hits_lru)
bin=$(cargo bench --bench probe --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -1)
if [[ -z "$bin" || ! -x "$bin" ]]; then
    echo "probe.sh: could not build benches/probe.rs" >&2
    exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Instructions of one run of MODE for CALLS calls.
count() {
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$bin" "$1" "$2" 2>&1 >/dev/null |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
echo "instructions per call (callgrind; 1 200 000 calls less 200 000, / 1 000 000)"
for mode in "${modes[@]}"; do
    runs=()
    for ((r = 0; r < RUNS; r++)); do
        a=$(count "$mode" 200000)
        b=$(count "$mode" 1200000)
        runs+=($(((b - a) / 1000000)))
    done
    median=$(printf '%s\n' "${runs[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    printf '  %-13s %5s   (runs: %s)\n' "$mode" "$median" "${runs[*]}"
done
