// fuzz lane: the pattern objects a single thread can drive without blocking, against a
// sequential model: lf::channel (buffered and unbuffered: try_send, try_recv, close, and
// closing twice), lf::weighted_semaphore (try_acquire, release) and lf::wait_group (add,
// done, wait at zero).
//
// Bad input is part of every sequence: a channel capacity below 0 or past max_capacity, a
// semaphore capacity or weight outside its range, a release of more than is held, a
// wait_group count driven below 0 or past INT_MAX. Each must throw the documented
// exception (invalid_argument, length_error or logic_error) naming the value, and leave
// the object as it was: the model then goes on checking it. A send whose payload's copy
// throws must leave the channel as it was too.
//
// Budget: 20'000 inputs of up to 512 bytes (about 95 operations each, 1.9 M in all): about
// 4 s of CPU under ASan+UBSan on the 2-core machine (5 s wall while it was shared). Each
// object gets about 6'600 inputs, and a channel of capacity 0..4 goes from empty to full
// and closed in most of them. Seen to fail: with weighted_semaphore's over-release check
// off by one (seen with the per-loop driver this file had before lf::fuzz::drive).
#include <climits>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>

#include "patterns/channel.hpp"
#include "patterns/semaphore.hpp"
#include "patterns/wait_group.hpp"
#include "verification/fuzz/fuzz.hpp"

namespace {

using lf::chan_status;
using lf::fuzz::input;
using lf::fuzz::payload;
using lf::fuzz::throws_naming;

// A channel payload whose copy can be made to throw (its move cannot: lf::channel moves
// values through its buffer).
struct fragile {
  std::string s;
  bool throw_on_copy = false;
  explicit fragile(std::string v, bool t = false) : s(std::move(v)), throw_on_copy(t) {}
  fragile(const fragile& o) : s(o.s) {
    if (o.throw_on_copy) throw std::runtime_error("lf-fuzz: payload copy throws");
  }
  fragile(fragile&&) noexcept = default;
  fragile& operator=(const fragile&) = default;
  fragile& operator=(fragile&&) noexcept = default;
};

void channel_case(input& in) {
  if (in.pick(16) == 0) {
    const std::ptrdiff_t bad[] = {-1, PTRDIFF_MIN, lf::channel<fragile>::max_capacity + 1, PTRDIFF_MAX};
    const std::ptrdiff_t c = bad[in.pick(4)];
    auto make = [c] { lf::channel<fragile> ch(c); };
    LF_FUZZ_CHECK(c < 0 ? throws_naming<std::invalid_argument>(make, std::to_string(c))
                        : throws_naming<std::length_error>(make, std::to_string(c)));
    return;
  }
  const std::size_t capacity = in.pick(5);
  lf::channel<fragile> ch(static_cast<std::ptrdiff_t>(capacity));
  LF_FUZZ_CHECK(ch.capacity() == capacity);
  std::deque<std::string> model;
  bool closed = false;
  std::size_t next = 0;
  auto send = [&] {
    const bool copy_throws = in.pick(8) == 0;
    const fragile v(payload(next++), copy_throws);
    if (copy_throws) {
      LF_FUZZ_CHECK(throws_naming<std::runtime_error>([&] { (void)ch.try_send(v); }, "copy throws"));
      return;
    }
    const chan_status st = in.coin() ? ch.try_send(v) : ch.try_send(fragile(v));
    const chan_status expected = closed                    ? chan_status::closed
                                 : model.size() < capacity ? chan_status::ok
                                                           : chan_status::would_block;
    LF_FUZZ_CHECK(st == expected);
    if (st == chan_status::ok) model.push_back(v.s);
  };
  auto recv = [&] {
    lf::recv_result<fragile> r = ch.try_recv();
    if (!model.empty()) {
      LF_FUZZ_CHECK(r.ok() && r->s == model.front());
      model.pop_front();
    } else {
      LF_FUZZ_CHECK(r.status() == (closed ? chan_status::closed : chan_status::would_block));
      LF_FUZZ_CHECK(throws_naming<lf::bad_recv>([&] { (void)*r; }, "no value"));
    }
  };
  auto close = [&] {
    if (in.pick(4) == 0) {  // close, and close again later
      LF_FUZZ_CHECK(ch.close() == !closed);
      closed = true;
    }
  };
  lf::fuzz::drive(in, [&] { LF_FUZZ_CHECK(ch.size() == model.size()); }, send, send, send, recv, recv, recv, close);
}

void semaphore_case(input& in) {
  if (in.pick(16) == 0) {
    const std::int64_t bad[] = {-1, INT64_MIN, lf::weighted_semaphore::max_capacity + 1, INT64_MAX};
    const std::int64_t c = bad[in.pick(4)];
    LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([c] { lf::weighted_semaphore s(c); }, std::to_string(c)));
    return;
  }
  const auto capacity = static_cast<std::int64_t>(in.pick(9));
  lf::weighted_semaphore sem(capacity);
  std::int64_t free = capacity;
  auto step = [&] {
    // Weights -1 .. capacity + 1: the two ends are bad.
    const std::int64_t w = static_cast<std::int64_t>(in.pick(static_cast<std::size_t>(capacity) + 3)) - 1;
    const bool bad_weight = w < 0 || w > capacity;
    if (in.coin()) {
      if (bad_weight) {
        LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { (void)sem.try_acquire(w); }, std::to_string(w)));
      } else {
        const bool got = sem.try_acquire(w);
        LF_FUZZ_CHECK(got == (free >= w));
        if (got) free -= w;
      }
    } else if (bad_weight) {
      LF_FUZZ_CHECK(throws_naming<std::invalid_argument>([&] { sem.release(w); }, std::to_string(w)));
    } else if (free + w > capacity) {
      LF_FUZZ_CHECK(throws_naming<std::logic_error>([&] { sem.release(w); }, "released more than held"));
    } else {
      sem.release(w);
      free += w;
    }
  };
  lf::fuzz::drive(in, [&] { LF_FUZZ_CHECK(sem.available_approx() == free); }, step);
}

void wait_group_case(input& in) {
  lf::wait_group wg;
  int count = 0;
  auto step = [&] {
    const int small = static_cast<int>(in.pick(9)) - 4;  // -4 .. 4
    const int n = in.pick(16) == 0 ? (in.coin() ? INT_MAX : INT_MIN + 1) : small;
    const bool below_zero = n < 0 && count + n < 0;
    const bool past_max = n > 0 && count > INT_MAX - n;
    if (below_zero) {
      LF_FUZZ_CHECK(throws_naming<std::logic_error>([&] { wg.add(n); }, "negative counter"));
    } else if (past_max) {
      LF_FUZZ_CHECK(throws_naming<std::length_error>([&] { wg.add(n); }, "past INT_MAX"));
    } else if (n == -1 && in.coin()) {
      wg.done();
      count -= 1;
    } else {
      wg.add(n);
      count += n;
    }
  };
  lf::fuzz::drive(
      in,
      [&] {
        LF_FUZZ_CHECK(wg.count_approx() == count);
        if (count == 0) wg.wait();  // returns at once at zero
      },
      step);
}

void fuzz_patterns(input& in) { lf::fuzz::one_of(in, channel_case, semaphore_case, wait_group_case); }

}  // namespace

LF_FUZZ_MAIN("patterns", fuzz_patterns, 20'000)
