// lf fuzz lane — op-sequence fuzzing against a sequential model (DESIGN §5).
//
// A fuzz target is one function that reads an input, byte by byte, as a sequence of
// operations on a fresh object (a container, a channel, a semaphore), applies each to the
// object and to a plain sequential model of it (std::deque, a counter), and checks after
// every step that the two agree. The lane is built with ASan+UBSan (the asan preset), so
// what the comparison cannot see, a use after free, a leak of what is left in a destroyed
// container, a double destruction, an overflow, stops the run too. Payloads are
// heap-owning strings for that reason: a lost or doubled one is a leak or a double free.
//
// Inputs come from a seeded random driver: input i is the bytes of std::mt19937_64(i), of
// a length drawn from the same generator. `binary` runs the target's budget of inputs,
// `binary SEED` replays one. A failed check prints the seed and aborts. Built with clang
// and -DLF_FUZZ_LIBFUZZER (cmake -DLF_FUZZ_WITH_LIBFUZZER=ON), the same function becomes a
// libFuzzer target instead, guided by coverage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

namespace lf::fuzz {

// The operations of one run, read from the input. Past its end every read returns 0, so a
// target need not check the length: it stops when `done()`.
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}

  bool done() const noexcept { return pos_ >= size_; }
  // A value in [0, n) (n >= 1) from the next byte, or two bytes when n > 256.
  std::size_t pick(std::size_t n) noexcept {
    std::size_t v = next();
    if (n > 256) v = v << 8 | next();
    return v % n;
  }
  bool coin() noexcept { return (next() & 1) != 0; }

 private:
  std::size_t next() noexcept { return pos_ < size_ ? data_[pos_++] : 0; }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// A payload that owns heap memory (longer than the small-string buffer), distinct per value.
inline std::string payload(std::size_t v) { return "lf-fuzz-payload-" + std::to_string(v) + "-heap-owned"; }

namespace detail {
inline std::uint64_t current_seed = 0;
inline std::uint64_t operations = 0;
}  // namespace detail

// Counts one operation applied (for the summary line).
inline void count_op() noexcept { ++detail::operations; }

// The one op loop of every target: until the input ends, picks one of `ops` (uniformly;
// list an op twice to weight it), applies it, counts it, then calls `check()`, which
// compares the object with its model. An op may read more of the input (its arguments).
template <class Check, class... Op>
void drive(input& in, Check check, Op&&... ops) {
  while (!in.done()) {
    count_op();
    const std::size_t k = in.pick(sizeof...(Op));
    std::size_t i = 0;
    ((i++ == k ? static_cast<void>(ops()) : static_cast<void>(0)), ...);
    check();
  }
}

// Runs one of `cases` (each a callable taking the input), picked by the input: what a
// target that covers several objects dispatches with.
template <class... Case>
void one_of(input& in, Case&&... cases) {
  const std::size_t k = in.pick(sizeof...(Case));
  std::size_t i = 0;
  ((i++ == k ? static_cast<void>(cases(in)) : static_cast<void>(0)), ...);
}

// Whether `op()` throws exactly an E (not a subclass) whose what() contains `text`: the
// bad-input checks ("throws std::invalid_argument naming the value").
template <class E, class Op>
bool throws_naming(Op&& op, const std::string& text) {
  try {
    op();
  } catch (const std::exception& e) {
    return typeid(e) == typeid(E) && std::string(e.what()).find(text) != std::string::npos;
  }
  return false;
}

[[noreturn]] inline void failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: lf-fuzz check failed: %s (replay: this binary %llu)\n", file, line, expr,
               static_cast<unsigned long long>(detail::current_seed));
  std::abort();
}

// Runs `target` on `inputs` seeded inputs of up to `max_bytes` bytes each, or on the one
// named by argv[1].
template <class Target>
int run_seeded(const char* name, int argc, char** argv, Target target, std::uint64_t inputs,
               std::size_t max_bytes = 512) {
  std::uint64_t first = 0, last = inputs;
  if (argc > 1) {
    first = std::strtoull(argv[1], nullptr, 10);
    last = first + 1;
  }
  std::vector<std::uint8_t> bytes;
  for (std::uint64_t seed = first; seed < last; ++seed) {
    detail::current_seed = seed;
    std::mt19937_64 rng(seed);
    bytes.resize(1 + rng() % max_bytes);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    input in(bytes.data(), bytes.size());
    target(in);
  }
  std::printf("lf-fuzz: %s: %llu inputs, %llu operations, every check held\n", name,
              static_cast<unsigned long long>(last - first), static_cast<unsigned long long>(detail::operations));
  return 0;
}

}  // namespace lf::fuzz

#define LF_FUZZ_CHECK(x) ((x) ? static_cast<void>(0) : ::lf::fuzz::failed(#x, __FILE__, __LINE__))

// LF_FUZZ_MAIN(name, target, inputs): main() for the seeded driver, or libFuzzer's entry.
#if defined(LF_FUZZ_LIBFUZZER)
#define LF_FUZZ_MAIN(name, target, inputs)                                          \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    ::lf::fuzz::input in(data, size);                                                 \
    target(in);                                                                       \
    return 0;                                                                         \
  }
#else
#define LF_FUZZ_MAIN(name, target, inputs) \
  int main(int argc, char** argv) { return ::lf::fuzz::run_seeded(name, argc, argv, target, inputs); }
#endif
