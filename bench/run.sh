#!/usr/bin/env bash
# Builds the `bench` preset, runs every benchmark binary and writes into OUTDIR the raw
# JSON (one file per binary), report.md and one PNG per workload; prints the report.
#
#   bench/run.sh OUTDIR
#   LF_BENCH_REPS=9 bench/run.sh OUTDIR           repetitions per benchmark (default 5)
#   LF_BENCH_FILTER='pingpong' bench/run.sh OUTDIR  passed as --benchmark_filter
#   LF_BENCH_SMOKE=1 bench/run.sh OUTDIR           the smoke: one repetition of every benchmark
#       (the scaling ones too), C++ and Go's (when go is on PATH), each on 1/1000 of its
#       workload's count (the C++ binaries read LF_BENCH_SMOKE: workloads.hpp's count();
#       Go's gets -smoke), then bench/report_test.py. Fails when a binary gives no result
#       or any row of the report is FAILED. The ctest bench_smoke (label bench_smoke,
#       `bench` preset) runs it. Its figures are not measurements.
#   LF_BENCH_BIN=DIR bench/run.sh OUTDIR            run the bench_* binaries in DIR, build nothing
#
# Exits non-zero when a build or run fails, or when any benchmark failed its count /
# checksum check or its result did not reach the report (the report is written first and
# shows it as FAILED).
# Installs nothing: the peers' Debian packages must be present.
set -euo pipefail

usage="usage: bench/run.sh OUTDIR"
out=${1:?$usage}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"

# Each C++ benchmark is one fixed run (Iterations(1), bench/workloads.hpp) of its
# workload's count, which no --benchmark_min_time shortens. In the smoke every count is
# 1/1000 of the full one, as in Go's -smoke: the binaries read LF_BENCH_SMOKE, exported
# here, themselves (workloads.hpp's count(), which keeps a count that is split over
# producers or batches a multiple of them), and say so in their JSON's "workload size".
# The smoke runs the code and the checks a measurement runs, on fewer items.
smoke=no
if [[ -n ${LF_BENCH_SMOKE:-} && $LF_BENCH_SMOKE != 0 ]]; then
  smoke=yes
  export LF_BENCH_SMOKE  # the binaries' count() reads it
  export LF_BENCH_SCALING=1  # registers the scaling workloads too (bench/workloads.hpp)
fi
reps=${LF_BENCH_REPS:-$([[ $smoke == yes ]] && echo 1 || echo 5)}

bin=${LF_BENCH_BIN:-}
if [[ -z $bin ]]; then
  cmake --preset bench
  cmake --build --preset bench
  bin=build/bench/bench
fi

# Repetitions are interleaved at random across benchmarks, so a slow spell of the
# machine spreads over all queues instead of landing on one.
args=(--benchmark_repetitions="$reps"
      --benchmark_report_aggregates_only=false
      --benchmark_enable_random_interleaving=true
      --benchmark_out_format=json)
if [[ -n ${LF_BENCH_FILTER:-} ]]; then
  args+=(--benchmark_filter="$LF_BENCH_FILTER")
fi
# The smoke proves that every benchmark runs and reports, not what it measures: 10 ms per
# benchmark instead of the default 0.5 s for any benchmark without a fixed iteration count
# (every one here has Iterations(1), so this changes nothing today).
if [[ $smoke == yes ]]; then
  args+=(--benchmark_min_time=0.01)
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
  "$bin/bench_$name" "${args[@]}" --benchmark_out="$out/$name.json"
  # A filter that matches nothing in this binary leaves an empty file; with no filter, so
  # does a binary that registered nothing, and report.py fails that file.
  if [[ -s $out/$name.json || -z ${LF_BENCH_FILTER:-} ]]; then
    jsons+=("$out/$name.json")
  else
    rm -f "$out/$name.json"
  fi
done
# Go's channels, select, context, channel pipeline, x/sync/semaphore and x/time/rate on
# the same machine in the same run (bench/go), when a Go toolchain is present: its JSON
# joins the report beside the C++ binaries'. x/sync and x/time come from Debian's source
# trees (go.mod's replace lines), so the build reads no network.
# A filter runs Go only if it would select one of Go's workload names.
go_names="chan_buffered_1p1c/go::chan chan_pingpong/go::chan ctx_cancel_wakeup_4/go::context pipeline_empty/go::chan pipeline_1us/go::chan"
go_names+=" semaphore_uncontended/go::semaphore.Weighted semaphore_contended_2t/go::semaphore.Weighted"
go_names+=" rate_allow_1t/go::rate.Limiter rate_allow_2t/go::rate.Limiter rate_reserve_cancel_1t/go::rate.Limiter"
go_names+=" rate_wait_1t/go::rate.Limiter coro_suspended_memory/go::goroutine"
go_names+=" coro_chan_pingpong/go::goroutine coro_chan_handoff/go::goroutine coro_chan_select4/go::goroutine"
go_names+=" coro_spawn_join/go::goroutine"
go_wanted=yes
if [[ -n ${LF_BENCH_FILTER:-} ]] && ! grep -Eq "${LF_BENCH_FILTER}" <<<"${go_names// /$'\n'}"; then go_wanted=no; fi
go_args=(-reps "$reps" -out "$out/go_channel.json")
if [[ $smoke == yes ]]; then go_args+=(-smoke); fi
if [[ -n ${LF_BENCH_FILTER:-} ]]; then go_args+=(-filter "$LF_BENCH_FILTER"); fi  # RE2, as --benchmark_filter
if ! command -v go >/dev/null 2>&1; then
  echo "== bench: no go on PATH: Go's channels and x/time/rate are left out (scripts/deps.sh bench installs golang-go) =="
elif [[ ! -f /usr/share/gocode/src/golang.org/x/time/go.mod || ! -f /usr/share/gocode/src/golang.org/x/sync/go.mod ]]; then
  echo "== bench: no golang.org/x/time or x/sync source: Go's benchmarks are left out (scripts/deps.sh bench installs golang-golang-x-time-dev and golang-golang-x-sync-dev) =="
elif [[ $go_wanted == yes ]]; then
  echo "== bench: go channels, context, goroutines, x/sync/semaphore and x/time/rate =="
  (cd bench/go && GOCACHE=${GOCACHE:-/tmp/lf-gocache} go run . "${go_args[@]}")
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
report_args=(--out "$out" --commit "$commit")
if [[ $smoke == yes ]]; then report_args+=(--smoke); fi
"$python" bench/report.py "${report_args[@]}" "${jsons[@]}"

if [[ $smoke == yes ]]; then
  # The report step also fails what it must fail (a FAILED check, an unknown counter, ...).
  echo "== smoke: bench/report_test.py =="
  "$python" bench/report_test.py
fi
