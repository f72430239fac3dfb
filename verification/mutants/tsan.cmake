# Mutants that only ThreadSanitizer sees, run in TSan builds (included from
# verification/stress, not from the model-lane list above). They weaken an order whose
# happens-before edge TSan needs while Relacy gets the same edge from a fence that TSan
# does not model, so no model case can fail (sync/asymmetric_fence.hpp's rule: a fence
# never carries the edge that protects plain memory). Each is the named stress test
# built against the mutated copy of the headers; the ctest case passes only if TSan
# reports a data race.

# lf_tsan_mutant(<name> STRESS <stress test> FILTER <gtest filter>)
function(lf_tsan_mutant name)
  cmake_parse_arguments(M "" "STRESS;FILTER" "" ${ARGN})
  set(change ${CMAKE_CURRENT_LIST_DIR}/${name}.mutant)
  set(root ${CMAKE_CURRENT_BINARY_DIR}/tsan_mutants/${name})
  set(copy_commands)
  foreach(dir sync rcu lockfree patterns)
    list(APPEND copy_commands COMMAND ${CMAKE_COMMAND} -E copy_directory ${PROJECT_SOURCE_DIR}/${dir} ${root}/src/${dir})
  endforeach()
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/sync/*.hpp ${PROJECT_SOURCE_DIR}/rcu/*.hpp
    ${PROJECT_SOURCE_DIR}/lockfree/*.hpp ${PROJECT_SOURCE_DIR}/patterns/*.hpp)
  add_custom_command(OUTPUT ${root}/applied.stamp
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${root}/src
    ${copy_commands}
    COMMAND ${CMAKE_COMMAND} -DMUTANT=${change} -DROOT=${root}/src
            -P ${PROJECT_SOURCE_DIR}/verification/mutants/apply_mutant.cmake
    COMMAND ${CMAKE_COMMAND} -E touch ${root}/applied.stamp
    DEPENDS ${change} ${headers} ${PROJECT_SOURCE_DIR}/verification/mutants/apply_mutant.cmake
    COMMENT "TSan mutant ${name}: applying ${change}"
    VERBATIM)
  add_custom_target(tsan_mutant_${name}_src DEPENDS ${root}/applied.stamp)
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
