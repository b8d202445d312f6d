# Install rules and the exported CMake package, so that an installed stencil is used as
#
#   find_package(stencil 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE stencil::stencil)
#
# Installed: the public headers (include/stencil/*.h), the library, the `stencil`
# command when src/cli defines it (target stencil_cli), and lib/cmake/stencil/ with
# stencilTargets.cmake, stencilConfig.cmake and stencilConfigVersion.cmake.
# Not installed: internal headers of src/, tests, benchmarks, build-only flag targets.
#
# The library is static by default, so its private link dependencies travel with
# it: the export lists them as $<LINK_ONLY:...> and stencilConfig.cmake finds them
# again (Threads, fmt, re2 through pkg-config, CUDAToolkit with STENCIL_CUDA) before loading the targets.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(STENCIL_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/stencil" CACHE STRING
    "Where the stencil CMake package files are installed, relative to the prefix")

install(TARGETS stencil EXPORT stencilTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/stencil
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

# The command-line tool, when it is built (src/cli names its target stencil_cli,
# output name `stencil`, since the library already owns the target name stencil).
if(TARGET stencil_cli)
  install(TARGETS stencil_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT stencilTargets
  NAMESPACE stencil::
  DESTINATION ${STENCIL_INSTALL_CMAKEDIR})
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/stencilConfig.cmake.in
  ${PROJECT_BINARY_DIR}/stencilConfig.cmake
  INSTALL_DESTINATION ${STENCIL_INSTALL_CMAKEDIR})
# 0.x: minor versions may break the API, so only the same minor version is compatible.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/stencilConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/stencilConfig.cmake
  ${PROJECT_BINARY_DIR}/stencilConfigVersion.cmake
  DESTINATION ${STENCIL_INSTALL_CMAKEDIR})
