# `cmake --install` puts under the prefix what a user of generated programs
# needs: the tools (bin/), the runtime libraries (lib/) with their one
# header (include/ios/Runtime/Runtime.h), and a CMake package:
#
#   find_package(IOS CONFIG REQUIRED)
#   ios_generate_program(SCHEDULED model.mlir NAME model OUT_SOURCES srcs)
#   add_executable(app app.c ${srcs})
#   target_link_libraries(app PRIVATE IOS::RuntimeCPU)
#
# The compiler's own libraries are not installed: they are MLIR pass
# libraries with no stable API yet.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

# Installed tools find Debian's libMLIR/libLLVM where they were linked.
set_target_properties(ios-opt ios-translate ios-stage-server-cpu PROPERTIES
  INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS ios-opt ios-translate ios-stage-server-cpu
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(IOS_INSTALLED_RUNTIMES IOSRuntimeCPU IOSRuntimeDriver)
set_target_properties(IOSRuntimeCPU PROPERTIES EXPORT_NAME RuntimeCPU)
set_target_properties(IOSRuntimeDriver PROPERTIES EXPORT_NAME RuntimeDriver)
if(TARGET IOSRuntimeCUDA)
  list(APPEND IOS_INSTALLED_RUNTIMES IOSRuntimeCUDA)
  set_target_properties(IOSRuntimeCUDA PROPERTIES EXPORT_NAME RuntimeCUDA)
  set_target_properties(ios-stage-server-cuda PROPERTIES
    INSTALL_RPATH_USE_LINK_PATH ON)
  install(TARGETS ios-stage-server-cuda
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(TARGETS ${IOS_INSTALLED_RUNTIMES} EXPORT IOSTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/ios/Runtime/Runtime.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ios/Runtime)

set(IOS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/IOS)
install(EXPORT IOSTargets NAMESPACE IOS:: DESTINATION ${IOS_CMAKE_DIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/IOSConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/IOSConfig.cmake
  INSTALL_DESTINATION ${IOS_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/IOSConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/IOSConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/IOSConfigVersion.cmake
  DESTINATION ${IOS_CMAKE_DIR})
