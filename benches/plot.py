#!/usr/bin/env python3
"""Turns the criterion results of `cargo bench --bench hit` into BENCHMARKS.md material.

    python3 benches/plot.py            # writes benches/threads.svg
    python3 benches/plot.py --tables   # also prints the markdown tables of BENCHMARKS.md
    python3 benches/plot.py --tables --runs target/bench-runs/<stamp>/run-*   # medians over runs

Reads criterion's JSON (`<target>/criterion/<group>/<comparator>[/<threads>]/new/`
`estimates.json` and `benchmark.json`) and the extras the benches write to
`<target>/bench-extra/` (allocations per hit, zipf hit ratios, memory). `<target>` is
$CARGO_TARGET_DIR or `target/` at the repository root. The SVG is written by hand: no
dependencies beyond python3's standard library.
"""

import json
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
SVG_OUT = ROOT / "benches" / "threads.svg"

COMPARATORS = ["memocache", "cached", "memoize", "moka", "quick_cache", "lru_mutex"]
COLORS = {
    "memocache": "#d62728",
    "cached": "#1f77b4",
    "memoize": "#9467bd",
    "moka": "#8c564b",
    "quick_cache": "#2ca02c",
    "lru_mutex": "#7f7f7f",
}

# Directories holding `criterion/` and `bench-extra/`: the target dir, or the saved runs
# given with --runs (benches/run_all.sh saves each `cargo bench` run).
RUNS = [TARGET]


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def estimate(bench_dir):
    """(ns per iteration, elements per iteration or None) of one criterion benchmark.

    criterion's median of the per-iteration sample times: on a shared machine a burst of
    another process inflates a few samples, which moves the mean and the slope but not the
    median.
    """
    new = bench_dir / "new"
    est = json.loads((new / "estimates.json").read_text())
    meta = json.loads((new / "benchmark.json").read_text())
    point = est["median"]["point_estimate"]
    elements = (meta.get("throughput") or {}).get("Elements")
    return point, elements


def per_run(rel, value):
    """`value(ns, elements)` of benchmark `rel` in every run that has it."""
    out = []
    for run in RUNS:
        d = run / "criterion" / rel
        if (d / "new" / "estimates.json").exists():
            out.append(value(*estimate(d)))
    return out


def ns_per_call(ns, elements):
    return ns / (elements or 1)


def mcalls_per_s(ns, elements):
    return elements / ns * 1e3


def group(name):
    """{comparator: [ns per call, one per run]} for a one-level group such as hit_u64."""
    out = {}
    for c in COMPARATORS:
        vals = per_run(f"{name}/{c}", ns_per_call)
        if vals:
            out[c] = vals
    return out


def threads():
    """{comparator: {threads: [Mcalls per second, one per run]}}."""
    out = {}
    for c in COMPARATORS:
        counts = set()
        for run in RUNS:
            d = run / "criterion" / "threads" / c
            if d.is_dir():
                counts |= {int(x.name) for x in d.iterdir() if x.name.isdigit()}
        for t in sorted(counts):
            vals = per_run(f"threads/{c}/{t}", mcalls_per_s)
            if vals:
                out.setdefault(c, {})[t] = vals
    return out


def extra(name):
    """A JSON file of `bench-extra/` from the latest run that has it (they are deterministic)."""
    for run in reversed(RUNS):
        path = run / "bench-extra" / name
        if path.exists():
            return json.loads(path.read_text())
    return None


def med(vals):
    return median(vals) if vals else None


def cell(vals, digits=1):
    """The median, and the range over runs when there are several."""
    if not vals:
        return "-"
    m = f"{median(vals):.{digits}f}"
    if len(vals) > 1:
        m += f" ({min(vals):.{digits}f}–{max(vals):.{digits}f})"
    return m


# ---------------------------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------------------------

def nice_step(span, ticks=5):
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(data, subtitle):
    width, height = 720, 440
    left, right, top, bottom = 70, 170, 50, 60
    pw, ph = width - left - right, height - top - bottom
    xs = sorted({t for per in data.values() for t in per})
    ymax_data = max(v for per in data.values() for v in per.values())
    step = nice_step(ymax_data)
    ymax = step * math.ceil(ymax_data / step)

    def x_of(t):
        if len(xs) == 1:
            return left + pw / 2
        # log2 spacing: 1, 2, 4, 8 .. equally apart
        lo, hi = math.log2(xs[0]), math.log2(xs[-1])
        return left + (math.log2(t) - lo) / (hi - lo) * pw

    def y_of(v):
        return top + ph - v / ymax * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">'
        "threads: all hits, total calls per second (higher is better)</text>",
        f'<text x="{left}" y="40" fill="#555">{esc(subtitle)}</text>',
    ]
    v = 0.0
    while v <= ymax + 1e-9:
        y = y_of(v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
        v += step
    for t in xs:
        x = x_of(t)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{t}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(
        f'<text x="{left + pw / 2}" y="{height - 15}" text-anchor="middle">threads</text>'
    )
    out.append(
        f'<text transform="translate(20 {top + ph / 2}) rotate(-90)" text-anchor="middle">'
        "million calls / s (all threads)</text>"
    )
    for i, c in enumerate(c for c in COMPARATORS if c in data):
        per = data[c]
        color = COLORS[c]
        pts = " ".join(f"{x_of(t):.1f},{y_of(per[t]):.1f}" for t in sorted(per))
        width_line = 3 if c == "memocache" else 2
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="{width_line}"/>'
        )
        for t in sorted(per):
            out.append(
                f'<circle cx="{x_of(t):.1f}" cy="{y_of(per[t]):.1f}" r="4" fill="{color}">'
                f"<title>{c}, {t} threads: {per[t]:.1f} Mcalls/s</title></circle>"
            )
        ly = top + 12 + i * 20
        lx = left + pw + 15
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{color}" '
            f'stroke-width="{width_line}"/>'
        )
        last = per[max(per)]
        out.append(f'<text x="{lx + 28}" y="{ly + 4}">{c} ({last:.0f})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def time_table(name, extra_col=None):
    g = group(name)
    if not g:
        return f"(no criterion results for {name})\n"
    qc, base = med(g.get("quick_cache")), med(g.get("lru_mutex"))
    head = "| crate | ns / call |" + (" × quick_cache |" if qc else "") + " × lru_mutex |"
    sep = "|---|---:|" + ("---:|" if qc else "") + "---:|"
    if extra_col:
        head += f" {extra_col[0]} |"
        sep += "---:|"
    lines = [head, sep]
    for c in COMPARATORS:
        if c not in g:
            continue
        m = med(g[c])
        row = f"| {c} | {cell(g[c])} |" + (f" {ratio(m, qc)} |" if qc else "")
        row += f" {ratio(m, base)} |"
        if extra_col:
            row += f" {extra_col[1](c)} |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def tables():
    out = []
    if len(RUNS) > 1:
        out.append(
            f"Medians of {len(RUNS)} runs of `cargo bench` (each value: criterion's median), "
            "the range over the runs in parentheses; ratios are of the medians.\n"
        )
    out.append("### hit_u64\n\n" + time_table("hit_u64"))
    allocs = extra("hit_str_allocations.json") or {}
    out.append(
        "### hit_str\n\n"
        + time_table(
            "hit_str",
            ("allocations / hit", lambda c: f"{allocs[c]:.2f}" if c in allocs else "-"),
        )
    )
    u64 = group("hit_u64")
    ttl = group("hit_ttl")
    out.append(
        "### hit_ttl\n\n"
        + time_table(
            "hit_ttl",
            ("× own hit_u64", lambda c: ratio(med(ttl.get(c)), med(u64.get(c)))),
        )
    )
    ratios = extra("zipf_hit_ratio.json") or {}
    out.append(
        "### zipf\n\n"
        + time_table(
            "zipf", ("hit ratio", lambda c: f"{ratios[c]:.4f}" if c in ratios else "-")
        )
    )
    th = threads()
    if th:
        counts = sorted({t for per in th.values() for t in per})
        top = counts[-1]
        head = "| crate | " + " | ".join(f"{t} thread{'s' if t > 1 else ''} (Mcalls/s)" for t in counts)
        head += f" | {top} × quick_cache | {top} / 1 thread |"
        lines = [head, "|---|" + "---:|" * (len(counts) + 2)]
        qc = th.get("quick_cache", {})
        for c in COMPARATORS:
            if c not in th:
                continue
            per = th[c]
            cells = " | ".join(cell(per.get(t)) for t in counts)
            lines.append(
                f"| {c} | {cells} | {ratio(med(per.get(top)), med(qc.get(top)))} | "
                f"{ratio(med(per.get(top)), med(per.get(counts[0])))} |"
            )
        out.append("### threads\n\n" + "\n".join(lines) + "\n")
    a = group("async_hit")
    if a:
        lines = ["| crate | ns / call | × memocache |", "|---|---:|---:|"]
        for c in COMPARATORS:
            if c in a:
                lines.append(
                    f"| {c} | {cell(a[c])} | {ratio(med(a[c]), med(a.get('memocache')))} |"
                )
        out.append("### async_hit\n\n" + "\n".join(lines) + "\n")
    mem = extra("memory.json")
    if mem:
        lines = [
            "| crate | configuration | entries held | bytes / insert | bytes / held entry |",
            "|---|---|---:|---:|---:|",
        ]
        for r in mem:
            lines.append(
                f"| {r['crate']} | `{r['config']}` | {r['held']} | "
                f"{r['bytes_per_insert']:.1f} | {r['bytes_per_held']:.1f} |"
            )
        out.append("### memory\n\n" + "\n".join(lines) + "\n")
    comp_path = TARGET / "compile-bench" / "results.json"
    if comp_path.exists():
        comp = json.loads(comp_path.read_text())
        plain = comp.get("plain", {})
        lines = [
            "| crate | build, crate only (s) | over plain (s) | check, crate only (s) "
            "| over plain (s) | clean build (s) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        def sec(r, k):
            return f"{r[k]:.2f}" if k in r else "-"

        def over(r, k):
            return f"{r[k] - plain[k]:.2f}" if k in r and k in plain else "-"

        for c in ("memocache", "cached", "plain", "floor"):
            if c not in comp:
                continue
            r = comp[c]
            lines.append(
                f"| {c} | {sec(r, 'crate_only_s')} | {over(r, 'crate_only_s')} "
                f"| {sec(r, 'check_only_s')} | {over(r, 'check_only_s')} | {sec(r, 'clean_s')} |"
            )
        if "memocache" in comp and "cached" in comp:
            m, c = comp["memocache"], comp["cached"]
            lines.append(
                f"\nmemocache / cached: build {ratio(m.get('crate_only_s'), c.get('crate_only_s'))}, "
                f"check {ratio(m.get('check_only_s'), c.get('check_only_s'))}, "
                f"clean {ratio(m.get('clean_s'), c.get('clean_s'))} "
                f"({comp.get('functions')} functions, profile {comp.get('profile')}, "
                f"median of {comp.get('runs')})"
            )
        if "floor" in comp and "cached" in comp:
            floor = ratio(comp["floor"].get("crate_only_s"), comp["cached"].get("crate_only_s"))
            lines.append(
                f"floor / cached: build {floor} "
                "(the runtime's generic code for the four shapes compiled upstream: FLOOR=1)"
            )
        out.append("### compile\n\n" + "\n".join(lines) + "\n")
    for i, run in enumerate(RUNS, 1):
        path = run / "bench-extra" / "hit_run.json"
        if path.exists():
            r = json.loads(path.read_text())
            out.append(
                f"run {i}: load average (1, 5, 15 min) before `benches/hit.rs`: "
                f"{r['load_before']}; after: {r['load_after']}\n"
            )
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    if "--runs" in args:
        dirs = [Path(a) for a in args[args.index("--runs") + 1 :] if not a.startswith("--")]
        if dirs:
            RUNS[:] = dirs
    th = threads()
    if not th:
        sys.exit(f"no threads results under {RUNS[0] / 'criterion'}: run `cargo bench --bench hit` first")
    data = {c: {t: median(v) for t, v in per.items()} for c, per in th.items()}
    runs = f"median of {len(RUNS)} runs" if len(RUNS) > 1 else "one run"
    subtitle = f"benches/hit.rs, {os.cpu_count()} cores, {runs}; legend: Mcalls/s at the most threads"
    SVG_OUT.write_text(svg(data, subtitle))
    print(f"wrote {SVG_OUT.relative_to(ROOT)}", file=sys.stderr)
    if "--tables" in args:
        print(tables())


if __name__ == "__main__":
    main()
