// Test support: a payload that counts its live instances, so a test can see that every
// element a container held is destroyed exactly once.
#pragma once

namespace lf::test {

struct tracked {
  static inline int live = 0;
  int value;
  explicit tracked(int v) : value(v) { ++live; }
  tracked(tracked&& o) noexcept : value(o.value) { ++live; }
  tracked(const tracked& o) : value(o.value) { ++live; }
  ~tracked() { --live; }
};

}  // namespace lf::test
