# cmake -DMUTANT=<file.mutant> -DROOT=<copy of the library> -P apply_mutant.cmake
#
# A .mutant file names one header and one exact text to replace in it:
#   # what the mutant breaks and which verdict should catch it   (comment lines)
#   file: lockfree/spsc_ring.hpp
#   find: <text that occurs exactly once in that header>
#   replace: <the mutated text>
# The text must occur exactly once: a mutant whose line has changed fails the build
# rather than silently testing nothing.
# Read whole, matched with regexes and always quoted: the texts hold ';', which CMake
# would otherwise split into lists.
file(READ "${MUTANT}" spec)
set(spec "\n${spec}")
foreach(key file find replace)
  if(NOT spec MATCHES "\n${key}: ([^\n]*)")
    message(FATAL_ERROR "${MUTANT}: needs a '${key}:' line")
  endif()
  set(${key} "${CMAKE_MATCH_1}")
endforeach()
set(target "${file}")
if(target STREQUAL "sync/detail/relacy.hpp")
  # Every model test and mutant reuses one precompiled copy of it (verification/CMakeLists.txt).
  message(FATAL_ERROR "${MUTANT}: sync/detail/relacy.hpp is precompiled for every mutant; mutate the library, not it")
endif()
file(READ "${ROOT}/${target}" text)
string(REPLACE "${find}" "" without "${text}")
string(LENGTH "${text}" n_text)
string(LENGTH "${without}" n_without)
string(LENGTH "${find}" n_find)
math(EXPR occurrences "(${n_text} - ${n_without}) / ${n_find}")
if(NOT occurrences EQUAL 1)
  message(FATAL_ERROR "${MUTANT}: '${find}' occurs ${occurrences} times in ${target}; it must occur once")
endif()
string(REPLACE "${find}" "${replace}" mutated "${text}")
file(WRITE "${ROOT}/${target}" "${mutated}")
