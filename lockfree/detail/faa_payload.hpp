// lf — how the fetch-and-add queues (lockfree/lcrq.hpp, lockfree/lprq.hpp) carry a T in
// one 64-bit word of a ring cell.
//
// A T that is trivially copyable and fits in 8 bytes travels in the word itself (its bytes,
// copied). Any other T is moved into a heap box allocated by the pusher, and the word is
// the box's address; the popper that wins the cell moves the value out and frees the box.
// The box's value is an lf::cell, so the model checker sees a payload race when the cell's
// publication does not order the box's construction before the popper's read.
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "sync/cell.hpp"

namespace lf::detail {

template <class T>
struct faa_payload {
  static constexpr bool in_word = std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(std::uint64_t) &&
                                  alignof(T) <= alignof(std::uint64_t);

  struct box {
    template <class... A>
    explicit box(A&&... args) {
      ::new (static_cast<void*>(value.write())) T(std::forward<A>(args)...);
    }
    cell<T> value;
  };

  // The word for a new value. May throw (T's constructor, the box's allocation); nothing
  // is shared yet then.
  template <class... A>
  static std::uint64_t make(A&&... args) {
    if constexpr (in_word) {
      const T v(std::forward<A>(args)...);
      std::uint64_t w = 0;
      std::memcpy(&w, &v, sizeof(T));
      return w;
    } else {
      return reinterpret_cast<std::uintptr_t>(new box(std::forward<A>(args)...));
    }
  }

  // Moves the value out of a word its caller won, and frees the box.
  static T take(std::uint64_t w) noexcept {
    if constexpr (in_word) {
      alignas(T) unsigned char bytes[sizeof(T)];
      std::memcpy(bytes, &w, sizeof(T));
      return *std::launder(reinterpret_cast<T*>(bytes));
    } else {
      box* const b = reinterpret_cast<box*>(static_cast<std::uintptr_t>(w));
      T v(b->value.take());
      delete b;
      return v;
    }
  }

  // Destroys the value of a word nobody will take (a queue's destructor, an abandoned push).
  static void discard(std::uint64_t w) noexcept {
    if constexpr (!in_word) {
      box* const b = reinterpret_cast<box*>(static_cast<std::uintptr_t>(w));
      b->value.destroy();
      delete b;
    }
  }
};

}  // namespace lf::detail
