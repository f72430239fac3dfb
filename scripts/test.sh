#!/usr/bin/env bash
# Every test lane on a fresh Debian 12 machine: installs what is missing, builds each
# preset, runs its lanes, and proves the installed package works for a consumer.
#   dev      (Debug)            unit, model, mutant, lincheck, stress, process
#   tsan     (ThreadSanitizer)  unit, stress, process, lincheck
#   asan     (ASan + UBSan)     unit, stress, process
#   clang    (clang++, -O2)     unit, stress, process
#   release  (-O2)              the library and examples only (g++ -O2 is tested by the tsan and
#                               asan builds, -O2 without sanitizers by clang; building the tests
#                               a fifth time would not fit CI's 25 minutes); install + a consumer
#   bench    (-O2, the peers)   bench_smoke: every benchmark binary and Go's, one repetition,
#                               through the report (installs the bench packages)
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

build() {
  echo "== lf build: preset $1 (at ${SECONDS}s) =="
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1"
}

build dev
lane dev unit
lane dev model
lane dev mutant
lane dev lincheck
lane dev stress
lane dev process

build tsan
lane tsan 'unit|stress|process|lincheck'

build asan
lane asan 'unit|stress|process'

build clang
lane clang 'unit|stress|process'

echo "== lf build: preset release, without the tests (at ${SECONDS}s) =="
cmake --preset release -DLF_BUILD_TESTS=OFF >/dev/null
cmake --build --preset release

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
