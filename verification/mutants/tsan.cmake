# Mutants that only ThreadSanitizer sees, run in TSan builds (included from
# verification/stress, not from the model-lane list above). They weaken an order whose
# happens-before edge TSan needs while Relacy gets the same edge from a fence that TSan
# does not model, so no model case can fail (sync/asymmetric_fence.hpp's rule: a fence
# never carries the edge that protects plain memory). Each is the named stress test
# built against the mutated copy of the headers; the ctest case passes only if TSan
# reports a data race.

include(${CMAKE_CURRENT_LIST_DIR}/mutated_copy.cmake)

# lf_tsan_mutant(<name> STRESS <stress test> FILTER <gtest filter>)
function(lf_tsan_mutant name)
  cmake_parse_arguments(M "" "STRESS;FILTER" "" ${ARGN})
  set(change ${CMAKE_CURRENT_LIST_DIR}/${name}.mutant)
  set(root ${CMAKE_CURRENT_BINARY_DIR}/tsan_mutants/${name})
  lf_mutated_copy(tsan_mutant_${name}_src ${change} ${root})
  add_executable(tsan_mutant_${name} ${PROJECT_SOURCE_DIR}/verification/stress/${M_STRESS}.cpp)
  add_dependencies(tsan_mutant_${name} tsan_mutant_${name}_src)
  target_include_directories(tsan_mutant_${name} BEFORE PRIVATE ${root}/src)
  target_link_libraries(tsan_mutant_${name} PRIVATE lf::lf GTest::gtest GTest::gtest_main Threads::Threads)
  add_test(NAME mutant.tsan.${name} COMMAND tsan_mutant_${name} --gtest_filter=${M_FILTER})
  set_tests_properties(mutant.tsan.${name} PROPERTIES LABELS "stress;mutant" TIMEOUT 300
    PASS_REGULAR_EXPRESSION "WARNING: ThreadSanitizer: data race")
endfunction()

# rcu/rcu.hpp — verification/stress/rcu_stress.cpp
lf_tsan_mutant(rcu_take_pending_relaxed STRESS rcu_stress
  FILTER rcu_stress.readers_see_only_intact_objects_while_writers_replace_and_retire)
