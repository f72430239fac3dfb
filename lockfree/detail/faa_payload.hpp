// lf — how the fetch-and-add queues (lockfree/lcrq.hpp, lockfree/lprq.hpp) carry a T in
// one 64-bit word of a ring cell.
//
// A T that is trivially copyable and fits in `WordBytes` bytes (8 for lcrq; 7 for lprq,
// which keeps the word's low byte for its own markers) travels in the word itself (its
// bytes, copied, in the low bytes of the word). Any other T is moved into a heap box allocated by the pusher, and the word is
// the box's address; the popper that wins the cell moves the value out and frees the box.
// The box's value is an lf::cell, so the model checker sees a payload race when the cell's
// publication does not order the box's construction before the popper's read.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "sync/cell.hpp"

namespace lf::detail {

template <class T, std::size_t WordBytes = sizeof(std::uint64_t)>
struct faa_payload {
  static_assert(WordBytes <= sizeof(std::uint64_t));
  static constexpr bool in_word = std::is_trivially_copyable_v<T> && sizeof(T) <= WordBytes &&
                                  alignof(T) <= alignof(std::uint64_t);

  // Where the low-order bytes of a uint64_t lie: an in-word value is numerically below
  // 2^(8 * sizeof(T)) whatever the byte order.
  static constexpr std::size_t low_bytes_offset =
      std::endian::native == std::endian::little ? 0 : sizeof(std::uint64_t) - (in_word ? sizeof(T) : 0);

  struct alignas(std::uint64_t) box {  // aligned: lprq keeps its markers in the low bits
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
      std::memcpy(reinterpret_cast<unsigned char*>(&w) + low_bytes_offset, &v, sizeof(T));
      return w;
    } else {
      return reinterpret_cast<std::uintptr_t>(new box(std::forward<A>(args)...));
    }
  }

  // Moves the value out of a word its caller won, and frees the box.
  static T take(std::uint64_t w) noexcept {
    if constexpr (in_word) {
      alignas(T) unsigned char bytes[sizeof(T)];
      std::memcpy(bytes, reinterpret_cast<const unsigned char*>(&w) + low_bytes_offset, sizeof(T));
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
