# Libraries of the compiler are MLIR libraries (add_mlir_library) with
# accurate dependencies:
#   LINK_LIBS  the project libraries they use;
#   MLIR_LIBS  the MLIR component libraries they use, linked through
#              mlir_target_link_libraries: with MLIR_LINK_MLIR_DYLIB (set at
#              the top level) that is Debian's monolithic libMLIR.so.
# LLVM components go to LINK_COMPONENTS (libLLVM.so with LLVM_LINK_LLVM_DYLIB).
# Libraries that must not see MLIR (scheduler core, profilers) pass no
# MLIR_LIBS and get only LLVM Support.
function(ios_add_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;LINK_LIBS;MLIR_LIBS;LINK_COMPONENTS" ${ARGN})
  add_mlir_library(${name} ${ARG_UNPARSED_ARGUMENTS}
    DISABLE_INSTALL
    DEPENDS ${ARG_DEPENDS}
    LINK_COMPONENTS Support ${ARG_LINK_COMPONENTS}
    LINK_LIBS PUBLIC ${ARG_LINK_LIBS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(ARG_MLIR_LIBS)
    mlir_target_link_libraries(${name} PUBLIC ${ARG_MLIR_LIBS})
  endif()
endfunction()
