// The process lane's one assertion: prints the failed condition and where, and exits 1.
// (No test framework: these programs test the process itself — exit, fork, threads.)
#pragma once

#include <cstdio>
#include <cstdlib>

#define LF_CHECK(cond)                                                                       \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
      std::_Exit(1);                                                                         \
    }                                                                                        \
  } while (0)
