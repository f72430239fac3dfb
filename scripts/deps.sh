#!/usr/bin/env bash
# Installs the Debian packages a lane needs: `scripts/deps.sh test` or `scripts/deps.sh bench`.
# Idempotent: asks apt only for what is missing (apt-get update, then apt-get install -y).
set -euo pipefail

# libclang-rt-dev: clang's sanitizer and libFuzzer runtimes (the asan preset builds with
# clang), only a Recommends of clang, which --no-install-recommends leaves out.
test_packages=(g++ clang libclang-rt-dev cmake ninja-build patch python3 libboost-dev libboost-atomic-dev relacy-dev libgtest-dev)
bench_packages=(g++ cmake ninja-build python3 python3-matplotlib libboost-dev libboost-atomic-dev libbenchmark-dev
  libconcurrentqueue-dev libreaderwriterqueue-dev libatomic-queue-dev libtbb-dev libcds-dev libxenium-dev liburcu-dev
  golang-go golang-golang-x-time-dev golang-golang-x-sync-dev
  libboost-thread-dev)

case "${1:-}" in
  test) wanted=("${test_packages[@]}") ;;
  bench) wanted=("${bench_packages[@]}") ;;
  *) echo "usage: scripts/deps.sh test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "== deps: every package for '$1' is installed =="
  exit 0
fi
echo "== deps: installing ${missing[*]} =="
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
