# lf_mutated_copy(<target> <change.mutant> <root>): a custom target that copies the
# library folders to <root>/src and applies the .mutant there (apply_mutant.cmake; a
# mutant that no longer applies fails the build). A binary that depends on <target> and
# puts <root>/src first on its include path compiles against the mutated library. Used by
# the mutants that a sanitizer or a lane other than the model kills (tsan.cmake,
# verification/progress).
include_guard(GLOBAL)
function(lf_mutated_copy target change root)
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
    COMMENT "mutant ${target}: applying ${change}"
    VERBATIM)
  add_custom_target(${target} DEPENDS ${root}/applied.stamp)
endfunction()
