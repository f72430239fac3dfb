#!/usr/bin/env python3
"""Turns the Google Benchmark JSON of bench_spsc / bench_mpmc into report.md and one PNG
bar chart per workload, and prints the Markdown.

    bench/report.py --out DIR [--commit SHA] FILE.json...

Benchmark names are "<workload>/<queue>/..." (bench/workloads.hpp). The figure of a
(workload, queue) is the median over its repetitions of the counter the workload
reports; every ratio compares lf with peers measured in the same run. A repetition
that failed its count/checksum check appears as FAILED with its message, never as a
number, and makes this script exit with status 2 once the report is written.
"""

import argparse
import json
import os
import platform
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt  # noqa: E402  (must follow the backend choice)

# counter -> (unit, scale applied for display, higher is better)
METRICS = {
    "items_per_second": ("M items/s", 1e-6, True),
    "ns_per_pair": ("ns per push+pop", 1.0, False),
    "ns_per_round_trip": ("ns per round trip", 1.0, False),
    "ns_per_wakeup": ("ns from cancel to the last waiter awake", 1.0, False),
    "ns_per_op": ("ns per op", 1.0, False),  # bench_reclaim: one protect + read + drop
}

# The project's targets, as "lf / best peer" bounds (DESIGN and the issues). A third
# element, when present, restricts the peers the target names (the Michael-Scott queue
# target compares with Michael-Scott queues only).
TARGETS = {
    "spsc_throughput_1p1c": (">=", 1.5),
    "spsc_pingpong": ("<=", 1.0),
    "mpmc_throughput_1p1c": (">=", 1.0),
    "mpmc_throughput_2p2c": (">=", 1.0),
    "queue_throughput_1p1c": (">=", 1.2, ("cds::MSQueue", "xenium::michael_scott_queue")),
    "queue_throughput_2p2c": (">=", 1.2, ("cds::MSQueue", "xenium::michael_scott_queue")),
    "stack_pair": ("<=", 1.0, ("boost::lockfree::stack",)),
    "chan_buffered_1p1c": (">=", 3.0, ("go::",)),
    "chan_buffered_2p2c": (">=", 1.5, ("go::",)),
    "chan_unbuffered_handoff": (">=", 1.0, ("go::",)),
    "chan_pingpong": ("<=", 1.0, ("go::",)),
}


def is_lf(queue):
    return queue.startswith("lf::")


def is_baseline(queue):
    return queue.startswith("baseline::")


class Result:
    """All repetitions of one (workload, queue)."""

    def __init__(self):
        self.values = []  # one per successful repetition, in display units
        self.errors = []  # one message per failed repetition
        self.metric = None

    @property
    def failed(self):
        return bool(self.errors) or not self.values

    @property
    def median(self):
        return statistics.median(self.values)


def load(paths):
    """Returns ({workload: {queue: Result}}, merged context, requested repetitions)."""
    results = defaultdict(lambda: defaultdict(Result))
    context, repetitions = {}, set()
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context.update(data.get("context", {}))
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue  # medians are computed here, from the repetitions themselves
            workload, queue = b.get("run_name", b["name"]).split("/")[:2]
            r = results[workload][queue]
            repetitions.add(b.get("repetitions", 1))
            if b.get("error_occurred"):
                r.errors.append(b.get("error_message", "no message"))
                continue
            metric = next((m for m in METRICS if m in b), None)
            if metric is None:
                r.errors.append("no known counter in the result")
                continue
            r.metric = metric
            r.values.append(b[metric] * METRICS[metric][1])
    return results, context, repetitions


def metric_of(rows):
    return next((r.metric for r in rows.values() if r.metric), None)


def comparison(rows, higher_better, peer_prefixes=None):
    """(best lf queue, best peer queue, lf / best peer) or None where either is missing.
    Where a workload has several lf rows (one container over several reclaimers), the
    best of them is compared; the table's "lf / this" column uses the same row."""
    lf = [q for q, r in rows.items() if is_lf(q) and not r.failed]
    peers = [q for q, r in rows.items() if not is_lf(q) and not is_baseline(q) and not r.failed]
    if peer_prefixes:
        peers = [q for q in peers if q.startswith(peer_prefixes)]
    if not lf or not peers:
        return None
    pick = max if higher_better else min
    best_lf = pick(lf, key=lambda q: rows[q].median)
    best = pick(peers, key=lambda q: rows[q].median)
    return best_lf, best, rows[best_lf].median / rows[best].median


def fmt(x):
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(context):
    """The machine that ran the benchmarks, from the JSON (the report may be written
    elsewhere); the CPU model only when this is that machine."""
    host = context.get("host_name", "unknown host")
    cpus = context.get("num_cpus", "?")
    mhz = context.get("mhz_per_cpu")
    line = f"{host}, {cpus} CPUs" + (f" at {mhz} MHz" if mhz else "")
    if host == platform.node() and str(cpus) == str(os.cpu_count()):
        line += f", {cpu_model()}, Linux {platform.release()}"
    return line


def ranked(rows, higher_better):
    """Queues best first, failed ones last."""
    sign = -1 if higher_better else 1
    return sorted(rows, key=lambda q: (rows[q].failed, 0 if rows[q].failed else sign * rows[q].median))


def chart(workload, rows, unit, higher_better, path):
    order = ranked(rows, higher_better)[::-1]  # barh draws bottom-up: the best ends on top
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(order) + 1.4))
    for i, q in enumerate(order):
        r = rows[q]
        if r.failed:
            ax.text(0, i, "  FAILED", va="center", color="tab:red", fontweight="bold")
            continue
        color = "tab:blue" if is_lf(q) else ("lightgrey" if is_baseline(q) else "grey")
        err = [[r.median - min(r.values)], [max(r.values) - r.median]]
        ax.barh(i, r.median, color=color, xerr=err, capsize=3, hatch="//" if is_baseline(q) else None)
        ax.text(max(r.values), i, f"  {fmt(r.median)}", va="center", fontsize=8)  # clear of the whisker
    ax.set_yticks(range(len(order)), order, fontsize=8)
    ax.set_xlabel(f"{unit}, median; whiskers: min-max ({'higher' if higher_better else 'lower'} is better)")
    ax.set_title(workload)
    ax.margins(x=0.15)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def header(args, context, repetitions, calibration):
    lines = [
        "# lf benchmark report",
        "",
        f"- commit: {args.commit}",
        f"- date: {context.get('date', 'unknown')}",
        f"- machine: {machine(context)}",
        f"- compiler: {context.get('compiler', 'unknown')}; flags: {context.get('build flags', 'unknown')}",
        f"- repetitions per figure: {', '.join(map(str, sorted(repetitions)))}, interleaved at random; "
        "figure = median, spread = min-max over the repetitions",
        f"- queue capacity requested: {context.get('requested capacity', '?')} (the tables show what each holds)",
        "- every run checked its item count and checksum before reporting; a failed check shows as FAILED",
        "- each thread pinned to a CPU, round robin; a waiting thread spins with pause, and where threads "
        "outnumber CPUs (2P2C on 2 CPUs) yields after 64 failed tries",
        f"- Google Benchmark library build: {context.get('library_build_type', 'unknown')} "
        "(figures come from the workloads' own clocks, not from its timers)",
        f"- raw results: {', '.join(os.path.basename(p) for p in args.json)}",
    ]
    for workload, rows in sorted(calibration.items()):
        for queue, r in sorted(rows.items()):
            figure = (f"FAILED: {'; '.join(sorted(set(r.errors)))}" if r.failed else
                      f"median {fmt(r.median)} ns, min {fmt(min(r.values))}, max {fmt(max(r.values))} "
                      f"over {len(r.values)} runs")
            lines.append(f"- {workload} ({queue}: one cache line bounced between the two pinned threads; "
                         f"DESIGN.md section 6 quotes 500-600 ns): {figure}")
    return lines + [
        "",
        "Ratios are lf / best peer, both medians from this run; baselines (mutex) are not peers. "
        "Throughput: > 1.0 means lf moves more items per second. "
        "Latency (pair, pingpong): lf time / peer time, so <= 1.0 means lf is as fast or faster. "
        "Run-to-run variation on this machine is large (DESIGN.md section 6; the calibration spread above "
        "shows how much the machine itself moved): compare figures only within one report.",
        "",
    ]


def section(workload, rows, context, out):
    """(Markdown lines, Targets row or None) for one workload; writes its PNG."""
    metric = metric_of(rows)
    unit, _, higher_better = METRICS[metric] if metric else ("", 1.0, True)
    cmp_ = comparison(rows, higher_better)
    lines = [f"## {workload}", "", f"{unit}, {'higher' if higher_better else 'lower'} is better.", "",
             f"| queue | median ({unit}) | min | max | capacity | lf / this |", "|---|---:|---:|---:|---:|---:|"]
    for q in ranked(rows, higher_better):
        r = rows[q]
        cap = context.get(f"capacity {q}", "?")
        name = f"**{q}**" if is_lf(q) else (f"{q} (best peer)" if cmp_ and q == cmp_[1] else q)
        if r.failed:
            lines.append(f"| {name} | FAILED: {'; '.join(sorted(set(r.errors))) or 'no result'} | | | {cap} | |")
            continue
        lf_over = f"{rows[cmp_[0]].median / r.median:.2f}" if cmp_ else ""
        lines.append(f"| {name} | {fmt(r.median)} | {fmt(min(r.values))} | {fmt(max(r.values))} | {cap} | {lf_over} |")
    if cmp_:
        sense = "higher is better" if higher_better else "lf time / peer time, <= 1.0 is better"
        lines += ["", f"**lf / best peer ({cmp_[1]}): {cmp_[2]:.2f}** ({sense})"]
    else:
        lines += ["", "**lf / best peer: n/a** (lf or every peer failed or is missing)"]
    if metric:
        chart(workload, rows, unit, higher_better, os.path.join(out, f"{workload}.png"))
        lines += ["", f"![{workload}]({workload}.png)"]
    lines.append("")

    target = None
    if workload in TARGETS:
        op, bound, *only = TARGETS[workload]
        if only:
            cmp_ = comparison(rows, higher_better, only[0])
        if cmp_:
            lf_q, best, ratio = cmp_
            met = ratio >= bound if op == ">=" else ratio <= bound
            target = (f"| {workload} | {fmt(rows[lf_q].median)} {unit} | {best}: {fmt(rows[best].median)} "
                      f"| {ratio:.2f} | {op} {bound} | {'yes' if met else 'no'} |")
        else:
            target = f"| {workload} | n/a | n/a | n/a | {op} {bound} | no (no comparison) |"
    return lines, target


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for report.md and the PNGs")
    ap.add_argument("--commit", default="unknown", help="the lf commit measured")
    ap.add_argument("json", nargs="+")
    args = ap.parse_args()

    results, context, repetitions = load(args.json)
    if not results:
        sys.exit("report.py: no benchmark results in " + ", ".join(args.json))
    os.makedirs(args.out, exist_ok=True)
    # Calibration rows measure the machine, not a queue: they go in the header.
    calibration = {w: results.pop(w) for w in [w for w in results if w.startswith("calibration")]}

    targets = ["## Targets", "", "Verdicts of this run only; read them with the spreads below.", "",
               "| workload | lf | best peer | lf / best peer | target | met |", "|---|---|---|---:|---:|---|"]
    body = []
    for workload in sorted(results):
        lines, target = section(workload, results[workload], context, args.out)
        body += lines
        if target:
            targets.append(target)

    text = "\n".join(header(args, context, repetitions, calibration) + targets + [""] + body)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(text)
    print(text)
    failures = sum(r.failed for group in (results, calibration) for rows in group.values() for r in rows.values())
    if failures:
        print(f"report.py: {failures} (workload, queue) result(s) FAILED their checks", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
