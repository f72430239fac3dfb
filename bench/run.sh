#!/usr/bin/env bash
# Builds the `bench` preset, runs every benchmark binary and writes into OUTDIR the raw
# JSON (one file per binary), report.md and one PNG per workload; prints the report.
#
#   bench/run.sh OUTDIR
#   LF_BENCH_REPS=9 bench/run.sh OUTDIR           repetitions per benchmark (default 5)
#   LF_BENCH_FILTER='pingpong' bench/run.sh OUTDIR  passed as --benchmark_filter
#
# Exits non-zero when a build or run fails, or when any benchmark failed its count /
# checksum check (the report is written first and shows it as FAILED).
# Installs nothing: the peers' Debian packages must be present.
set -euo pipefail

usage="usage: bench/run.sh OUTDIR"
out=${1:?$usage}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"

cmake --preset bench
cmake --build --preset bench

# Repetitions are interleaved at random across benchmarks, so a slow spell of the
# machine spreads over all queues instead of landing on one.
args=(--benchmark_repetitions="${LF_BENCH_REPS:-5}"
      --benchmark_report_aggregates_only=false
      --benchmark_enable_random_interleaving=true
      --benchmark_out_format=json)
if [[ -n ${LF_BENCH_FILTER:-} ]]; then
  args+=(--benchmark_filter="$LF_BENCH_FILTER")
fi

# Every bench/bench_<class>.cpp is a binary; run them in name order.
benches=()
for src in bench/bench_*.cpp; do
  name=${src#bench/bench_}
  benches+=("${name%.cpp}")
done
jsons=()
for i in "${!benches[@]}"; do
  name=${benches[$i]}
  echo "== bench: $name ($((i + 1))/${#benches[@]}) =="
  rm -f "$out/$name.json"
  build/bench/bench/bench_"$name" "${args[@]}" --benchmark_out="$out/$name.json"
  # A filter that matches nothing in this binary leaves an empty file.
  if [[ -s $out/$name.json ]]; then jsons+=("$out/$name.json"); else rm -f "$out/$name.json"; fi
done
# Go's channels, select and context on the same machine in the same run (bench/go), when
# a Go toolchain is present: its JSON joins the report beside bench_channel's.
# A filter runs Go only if it would select one of Go's workload names.
go_names="chan_buffered_1p1c/go::chan chan_pingpong/go::chan ctx_cancel_wakeup_4/go::context"
go_wanted=yes
if [[ -n ${LF_BENCH_FILTER:-} ]] && ! grep -Eq "${LF_BENCH_FILTER}" <<<"${go_names// /$'\n'}"; then go_wanted=no; fi
if command -v go >/dev/null 2>&1 && [[ $go_wanted == yes ]]; then
  echo "== bench: go channels =="
  (cd bench/go && GOCACHE=${GOCACHE:-/tmp/lf-gocache} go run . -reps "${LF_BENCH_REPS:-5}" -out "$out/go_channel.json")
  jsons+=("$out/go_channel.json")
fi
if [[ ${#jsons[@]} -eq 0 ]]; then
  echo "run.sh: no benchmark ran (filter '${LF_BENCH_FILTER:-}')" >&2
  exit 1
fi

# Read-only: GIT_OPTIONAL_LOCKS=0 keeps `git status` from refreshing the index.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(GIT_OPTIONAL_LOCKS=0 git status --porcelain 2>/dev/null) ]]; then
  commit+=" + uncommitted changes"
fi

# python3-matplotlib lives in Debian's interpreter; a python3 earlier on PATH (pyenv,
# a venv) may lack it.
python=python3
if ! "$python" -c 'import matplotlib' 2>/dev/null; then python=/usr/bin/python3; fi

echo "== report: $out/report.md =="
"$python" bench/report.py --out "$out" --commit "$commit" "${jsons[@]}"
