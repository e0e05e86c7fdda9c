# ios_add_library(name SRCS... [DEPENDS targets...] [LINK_LIBS libs...])
#
# A project library linked against the shared libMLIR.so (and so libLLVM.so).
# Libraries that must not see MLIR (the scheduler core) pass NO_MLIR and get
# only LLVM (Support).
function(ios_add_library name)
  cmake_parse_arguments(ARG "NO_MLIR" "" "DEPENDS;LINK_LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_UNPARSED_ARGUMENTS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  if(ARG_NO_MLIR)
    target_link_libraries(${name} PUBLIC LLVM ${ARG_LINK_LIBS})
  else()
    target_link_libraries(${name} PUBLIC MLIR LLVM ${ARG_LINK_LIBS})
  endif()
endfunction()
