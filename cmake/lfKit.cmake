# lf verification kit: CMake functions that build a user's own structure, written against
# lf's seam (lf::atomic, lf::cell, lf::fence, ...), into the same checks lf runs on itself.
# Included by lfConfig.cmake (find_package(lf)) and by lf's own build.
#
#   lf_add_model_test(<name> <source>... [LABELS <label>...])
#       A Relacy model test: <source> is compiled with LF_MODEL_RELACY, so every seam
#       operation in the user's header becomes a scheduling point of the model checker.
#       g++ only. Relacy's headers (Debian: relacy-dev) are found as relacy/relacy.hpp;
#       set LF_RELACY_INCLUDE to the folder above relacy/ if they live elsewhere.
#       Registers a ctest <name> labelled `model` (and LABELS).
#   lf_add_lincheck_test(<name> <source>... [LABELS <label>...])
#       A program linked with lf::lincheck (recorder, checker, specifications, driver),
#       run on real threads. Registers a ctest <name> labelled `lincheck` (and LABELS).
#
# The model helpers (lf::model::run_cases, the searches) are in
# "verification/model/model_driver.hpp", the checker in "verification/lincheck/*.hpp".
include_guard(GLOBAL)

# Flags every Relacy translation unit needs (measured on g++ 12, DESIGN §2):
#  -fno-lifetime-dse       else GCC deletes the store that marks freed Relacy objects, and a
#                          use after free goes unseen even under full search
#  -fno-sized-deallocation else delete[] bypasses Relacy's operator delete
#  -Wno-array-bounds       false positives inside Relacy
#  -g0                     no debug info: verdicts name file and line through lf::site, and
#                          debug info made these large translation units 30% slower
set(LF_MODEL_FLAGS -O1 -g0 -fno-lifetime-dse -fno-sized-deallocation -Wno-array-bounds -Wno-deprecated-declarations)

# Fails the configuration, with the reason, unless Relacy model tests can be built here.
function(lf_require_model_checker)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    message(FATAL_ERROR "lf model tests are built with g++ (they need -fno-lifetime-dse, see lf's DESIGN §2); "
                        "this build uses ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER}. "
                        "Configure with -DCMAKE_CXX_COMPILER=g++.")
  endif()
  find_path(LF_RELACY_INCLUDE relacy/relacy.hpp DOC "the folder that contains relacy/relacy.hpp")
  if(NOT LF_RELACY_INCLUDE)
    message(FATAL_ERROR "lf model tests need the Relacy race detector (relacy/relacy.hpp was not found). "
                        "On Debian/Ubuntu: apt-get install relacy-dev; elsewhere set LF_RELACY_INCLUDE "
                        "to the folder that contains relacy/.")
  endif()
endfunction()

# One executable <name> from the sources in ARGN, registered as the ctest <name> with the
# label <lane> and any LABELS given.
function(lf_kit_test lane name)
  cmake_parse_arguments(LF "" "" "LABELS" ${ARGN})
  if(NOT LF_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "lf_add_${lane}_test(${name}): no source files")
  endif()
  add_executable(${name} ${LF_UNPARSED_ARGUMENTS})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${lane}" TIMEOUT 600)
  if(LF_LABELS)
    set_property(TEST ${name} APPEND PROPERTY LABELS ${LF_LABELS})
  endif()
endfunction()

function(lf_add_model_test name)
  lf_require_model_checker()
  lf_kit_test(model ${name} ${ARGN})
  target_link_libraries(${name} PRIVATE lf::lf)
  target_include_directories(${name} SYSTEM PRIVATE ${LF_RELACY_INCLUDE})
  target_compile_features(${name} PRIVATE cxx_std_20)
  target_compile_definitions(${name} PRIVATE LF_MODEL_RELACY)
  target_compile_options(${name} PRIVATE ${LF_MODEL_FLAGS})
endfunction()

function(lf_add_lincheck_test name)
  lf_kit_test(lincheck ${name} ${ARGN})
  target_link_libraries(${name} PRIVATE lf::lincheck)
endfunction()
