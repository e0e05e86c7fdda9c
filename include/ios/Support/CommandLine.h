//===- CommandLine.h - Tools show their own options -------------*- C++ -*-===//
//
// Every tool links libLLVM, whose static initialisers register hundreds of
// command-line options (code generation for every backend) that mean
// nothing to an IOS tool and would bury its own options in --help.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_SUPPORT_COMMANDLINE_H
#define IOS_SUPPORT_COMMANDLINE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace ios {

/// Hides every option registered so far from --help and --help-hidden
/// (they stay usable) except --help, --help-list, --version and the options
/// named in `keep` (the tool's own static options). Call it first in main():
/// what the tool registers afterwards (MLIR's options) stays visible.
void hideLibraryOptions(llvm::ArrayRef<llvm::StringRef> keep = {});

/// Hides from --help (but lists in --help-hidden) every registered option
/// whose name is not in `visible` (nor --help, --help-list, --version):
/// for tools built on MLIR's drivers, which register dozens of debugging
/// options.
void showOnly(llvm::ArrayRef<llvm::StringRef> visible);

} // namespace ios

#endif // IOS_SUPPORT_COMMANDLINE_H
