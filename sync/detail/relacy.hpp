// lf — the one place that includes Relacy (model-test builds only, LF_MODEL_RELACY).
//
// relacy.hpp #defines memory_order_*, new, delete, malloc, free, assert, errno and the
// pthread/semaphore names. The standard headers the library and its tests use are
// included first, so their include guards are set before those macros exist; the macros
// are then removed, so everything after this header reads ordinary C++.
#pragma once

#if !defined(LF_MODEL_RELACY)
#error "sync/detail/relacy.hpp is for model-test builds (define LF_MODEL_RELACY)"
#endif

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <relacy/relacy.hpp>

#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef errno
#define errno (*__errno_location())
#undef assert
#undef futex
#undef sched_yield
#undef pthread_yield
#undef pthread_create
#undef pthread_join
#undef pthread_t
#undef pthread_attr_t
#undef pthread_mutex_t
#undef pthread_mutex_init
#undef pthread_mutex_destroy
#undef pthread_mutex_lock
#undef pthread_mutex_unlock
#undef pthread_mutex_timedlock
#undef pthread_mutex_try_lock
#undef pthread_cond_t
#undef pthread_cond_init
#undef pthread_cond_destroy
#undef pthread_cond_wait
#undef pthread_cond_timedwait
#undef pthread_cond_signal
#undef pthread_cond_broadcast
// <cassert> may be included again: it re-reads NDEBUG and redefines assert.
#include <cassert>
