// lf — lf::cell<T>: storage for one T that threads share without atomics (a ring
// slot's payload, a node's value), whose lifetime the algorithm manages.
//
// Every access says whether it reads or writes. Production: the storage itself, nothing
// more. Model (LF_MODEL_RELACY): each access also touches an rl::var shadow with the
// caller's file and line, so Relacy reports a payload race (a read that no
// happens-before edge orders after the write) at the algorithm's line. rl::var holds
// scalars only, hence a shadow beside the raw storage rather than rl::var<T>.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "sync/config.hpp"

namespace lf {

template <class T>
class cell {
 public:
  cell() = default;
  cell(const cell&) = delete;
  cell& operator=(const cell&) = delete;

  // Storage for a write: construct into it, assign through it, or destroy it.
  T* write(site s = {}) noexcept {
    touch_write(s);
    return ptr();
  }
  // Storage for a read of the live T.
  const T* read(site s = {}) const noexcept {
    touch_read(s);
    return ptr();
  }

  // Moves the live T out and ends its lifetime.
  T take(site s = {}) noexcept(std::is_nothrow_move_constructible_v<T>) {
    T* p = write(s);
    T v(std::move(*p));
    std::destroy_at(p);
    return v;
  }
  void destroy(site s = {}) noexcept { std::destroy_at(write(s)); }

 private:
  T* ptr() const noexcept { return std::launder(reinterpret_cast<T*>(const_cast<unsigned char*>(storage_))); }

#if defined(LF_MODEL_RELACY)
  void touch_write(site s) noexcept { shadow_(rl::debug_info("", s.file, s.line)).store(0); }
  void touch_read(site s) const noexcept { (void)shadow_(rl::debug_info("", s.file, s.line)).load(); }
  rl::var<int> shadow_{0};
#else
  static void touch_write(site) noexcept {}
  static void touch_read(site) noexcept {}
#endif

  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace lf
