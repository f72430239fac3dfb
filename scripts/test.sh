#!/usr/bin/env bash
# Every test lane on a fresh Debian 12 machine: installs what is missing, builds each
# preset, runs its lanes, and proves the installed package works for a consumer.
#   dev      (g++ Debug)           unit, model, mutant, lincheck, process, progress (not
#                                  stress: the tsan, asan and release builds run it, each with
#                                  LF_ENABLE_ASSERT as Debug has; dropping it took the
#                                  dev stage from 678 to 638 s in the rehearsals)
#                                  (+ litmus)
#   tsan     (g++ -O2, TSan)       unit, stress, process, lincheck
#   asan     (clang++ -O1, ASan + UBSan)  unit, stress, process, fuzz
#   release  (g++ -O2)             stress, process (the optimised build without a sanitizer,
#                                  whose timing differs most from the sanitized runs); then
#                                  install + a consumer that also builds and runs the kit's
#                                  example with the installed lf_add_model_test/lincheck
#   bench    (g++ -O2, the peers)  bench_smoke: every benchmark binary and Go's, one
#                                  repetition on 1/1000 of every workload's count, through
#                                  the report (installs the bench packages)
# The asan preset leaves out UBSan's `function` check: with it clang 14 cannot assemble a
# translation unit that awaits channels from coroutines ("Cannot represent a difference
# across sections"); every other UBSan check stays on.
# Each preset builds only the lanes it runs (LF_TEST_LANES). The clang preset (clang++ -O2,
# every lane) is not run here: clang compiles the asan build, and CI's 25 minutes on 2 cores
# do not hold a sixth build of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/deps.sh test
scripts/deps.sh bench  # for the last lane; first, so that a missing package stops the run at once

passed=0
failed=0
failures=()  # "preset: test" for every test that failed, listed again at the end
# lane PRESET LABEL-REGEX: runs one lane, adds its counts to the totals.
lane() {
  local preset=$1 labels=$2 log
  echo "== lf test: preset $preset, lanes $labels (at ${SECONDS}s) =="
  log=$(mktemp)
  set +e
  ctest --preset "$preset" -L "$labels" -j2 --timeout 600 2>&1 | tee "$log"
  set -e
  local line
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of" "$log" | tail -n1 || true)
  # ctest lists each failed test after "The following tests FAILED:" as "<n> - <name> (<why>)".
  local name
  while IFS= read -r name; do
    failures+=("$preset: $name")
  done < <(sed -n '/The following tests FAILED:/,$p' "$log" | sed -nE 's/^[[:space:]]+[0-9]+ - (.*)$/\1/p')
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "lf test: no summary from ctest for $preset/$labels" >&2
    failures+=("$preset: no summary from ctest for the lanes $labels")
    failed=$((failed + 1))
    return
  fi
  local total bad
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
}

# build PRESET [CMAKE-ARGS...]: configures (with the extra arguments) and builds one preset.
build() {
  local preset=$1
  shift
  echo "== lf build: preset $preset $* (at ${SECONDS}s) =="
  cmake --preset "$preset" "$@" >/dev/null
  cmake --build --preset "$preset"
}

# -g1 (line tables, as tsan): the dev preset's full -g made each test's compile ~20%
# slower, and nobody attaches a debugger to this run; a failure still names file and line.
build dev -DLF_TEST_LANES='unit;process;lincheck;progress' -DCMAKE_CXX_FLAGS_DEBUG=-g1
lane dev unit
lane dev model
lane dev mutant
lane dev lincheck
lane dev process
lane dev progress

build tsan -DLF_TEST_LANES='unit;stress;process;lincheck'
lane tsan 'unit|stress|process|lincheck'

build asan -DLF_TEST_LANES='unit;stress;process;fuzz'
lane asan 'unit|stress|process|fuzz'

build release -DLF_TEST_LANES='stress;process'
lane release 'stress|process'

echo "== lf test: install, then build a consumer with find_package(lf) =="
rm -rf build/install build/consumer
cmake --install build/release --prefix build/install >/dev/null
if cmake -S verification/install -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$root/build/install" >/dev/null &&
   cmake --build build/consumer && build/consumer/lf_consumer; then
  passed=$((passed + 1))
else
  echo "lf test: the installed package did not build and run a consumer" >&2
  failures+=("install: the consumer of the installed package")
  failed=$((failed + 1))
fi

build bench
lane bench bench_smoke

echo
if [ "${#failures[@]}" -gt 0 ]; then
  echo "lf test: these failed (their output is above, under the lane that ran them):"
  printf '  %s\n' "${failures[@]}"
fi
echo "lf test: $passed passed, $failed failed (${SECONDS}s)"
[ "$failed" -eq 0 ]
