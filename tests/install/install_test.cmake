# cmake -P script behind the install_and_find_package test (see CMakeLists.txt here).
# Inputs: BUILD_DIR, EXAMPLES_DIR, WORK_DIR, GENERATOR, CXX_COMPILER, EXTRA_FLAGS, TOKENIZER.
# Fails (FATAL_ERROR) on any install, configure, build or run problem, or when quickstart
# prints anything but {"unit":"celsius"}. Prints STENCIL_TEST_SKIPPED (the test's skip
# pattern) only when the llama3 tokenizer is not prepared, after building quickstart.
cmake_minimum_required(VERSION 3.20)

set(prefix "${WORK_DIR}/prefix")
set(examples_build "${WORK_DIR}/examples")
file(REMOVE_RECURSE "${WORK_DIR}")

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(last_output "${out}" PARENT_SCOPE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
endfunction()

run(install "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f include/stencil/stencil.h lib/cmake/stencil/stencilConfig.cmake
          lib/cmake/stencil/stencilConfigVersion.cmake lib/cmake/stencil/stencilTargets.cmake)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "install did not create ${f}:\n${last_output}")
  endif()
endforeach()
# Internal headers must stay internal.
file(GLOB_RECURSE installed_headers RELATIVE "${prefix}/include" "${prefix}/include/*")
foreach(h IN LISTS installed_headers)
  if(NOT h MATCHES "^stencil/.*\\.h$")
    message(FATAL_ERROR "unexpected installed header: ${h}")
  endif()
endforeach()

# Configure examples/ as an outside project; only the temporary prefix may provide stencil.
run(configure "${CMAKE_COMMAND}" -S "${EXAMPLES_DIR}" -B "${examples_build}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
if(NOT last_output MATCHES "stencil [0-9.]+ found in ${prefix}/lib/cmake/stencil")
  message(FATAL_ERROR "examples/ did not find stencil in ${prefix}:\n${last_output}")
endif()

run(build "${CMAKE_COMMAND}" --build "${examples_build}" --target quickstart)

if(NOT EXISTS "${TOKENIZER}")
  message("STENCIL_TEST_SKIPPED: built quickstart, but ${TOKENIZER} is absent (run scripts/prepare-data) so it was not run")
  return()
endif()
run(quickstart "${examples_build}/quickstart" "${TOKENIZER}")
string(STRIP "${last_output}" text)
if(NOT text STREQUAL "{\"unit\":\"celsius\"}")
  message(FATAL_ERROR "quickstart printed '${text}', expected '{\"unit\":\"celsius\"}'")
endif()
message(STATUS "quickstart printed ${text}")
