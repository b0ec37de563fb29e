#!/usr/bin/env bash
# Everything BENCHMARKS.md reports, in one go (about 9 minutes on 2 cores):
#   1. the machine, the date and the load;
#   2. FLOOR=1 benches/compile/run.sh (build times, with the floor crate; first, so that it
#      does not overlap the timing runs);
#   3. `cargo bench` (benches/hit.rs with criterion, benches/memory.rs: the memocache-benches
#      package, a default member of the workspace, so run from the root), RUNS_BENCH times
#      (default 3), each run's estimates saved to target/bench-runs/<date>/run-<n>/;
#   4. benches/plot.py: benches/threads.svg and the markdown tables (medians over the runs),
#      saved to target/bench-runs/<date>/tables.md.
# Run it on a quiet machine: another build on the same cores moves the `threads` rows most.
set -euo pipefail
cd "$(dirname "$0")/.."

# The library is edited while it is measured (other work in the same tree): every `cargo bench`
# rebuilds it. The sources are hashed before and after each run, and a change is reported.
sources() {
    find cache-runtime/src cache-macros/src src benches -name '*.rs' -print0 | sort -z | xargs -0 cat |
        sha256sum | cut -c1-16
}

stamp=$(date -u +%Y-%m-%dT%H-%M-%SZ)
session="target/bench-runs/$stamp"
mkdir -p "$session"
out="$session/tables.md"

{
    echo "# memocache benchmark run $stamp"
    echo
    echo "- machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
        "$(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "- $(rustc --version), $(uname -sr)"
    echo "- load average at start: $(cat /proc/loadavg)"
    if git rev-parse --verify -q HEAD >/dev/null; then
        echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (dirty)')"
    else
        echo "- commit: none yet"
    fi
    echo "- sources measured: sha256 of cache-runtime/src, cache-macros/src, src, benches: $(sources)"
    echo
} | tee "$out"

FLOOR=1 benches/compile/run.sh | tee "$session/compile.log"
# Several `cargo bench` runs (RUNS_BENCH, default 3): the tables give the median of the runs
# and their range, so that a burst of another process shows as a range, not as a result.
start_sources=$(sources)
changed=()
for ((r = 1; r <= ${RUNS_BENCH:-3}; r++)); do
    run="$session/run-$r"
    mkdir -p "$run"
    before=$(sources)
    echo "cargo bench, run $r (criterion output: $run/bench.log)"
    rm -rf target/bench-extra
    if ! cargo bench -p memocache-benches >"$run/bench.log" 2>&1; then
        tail -40 "$run/bench.log"
        echo "cargo bench failed; see $run/bench.log" >&2
        exit 1
    fi
    grep -E '^(load average|  [a-z_]+ +[0-9.]+$)|WARNING' "$run/bench.log" || true
    # Only the estimates: criterion's raw samples and reports stay in target/criterion.
    (cd target && find criterion -path '*/new/*.json' -exec cp --parents {} "../$run/" \;)
    cp -r target/bench-extra "$run/"
    after=$(sources)
    if [[ "$before" != "$start_sources" || "$after" != "$start_sources" ]]; then
        changed+=("run $r: sources $before before, $after after")
    fi
done
if ((${#changed[@]})); then
    {
        echo "**WARNING: the library's sources changed during this session** (started at" \
            "$start_sources): ${changed[*]}. The runs measured different code."
        echo
    } | tee -a "$out"
fi
cp target/compile-bench/results.json "$session/compile.json" 2>/dev/null || true
python3 benches/plot.py --tables --runs "$session"/run-* >>"$out"
echo
echo "tables: $out (logs and estimates of each run: $session/run-*)"
