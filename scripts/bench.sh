#!/usr/bin/env bash
# The peer comparison on a fresh Debian 12 machine: installs what is missing, builds the
# bench preset, runs every benchmark (LF_BENCH_REPS repetitions, default 5: the 2-core VM
# moves between a slow and a fast state, and 5 interleaved repetitions give a steadier
# median than 3), and writes
# report.md, one PNG per workload and the raw JSON to the folder it names at the end.
#   scripts/bench.sh [OUTDIR]      (default: bench-report/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-report}
mkdir -p "$out"
out=$(cd "$out" && pwd)

scripts/deps.sh bench
bench/run.sh "$out"
echo
echo "lf bench: report written to $out/report.md (plots and raw JSON beside it)"
