//===- CommandLine.cpp - Tools show their own options ---------------------===//

#include "ios/Support/CommandLine.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"

static bool alwaysShown(llvm::StringRef name) {
  return name == "help" || name == "help-list" || name == "version";
}

void ios::hideLibraryOptions(llvm::ArrayRef<llvm::StringRef> keep) {
  for (auto &[name, option] : llvm::cl::getRegisteredOptions())
    if (!alwaysShown(name) && !llvm::is_contained(keep, name))
      option->setHiddenFlag(llvm::cl::ReallyHidden);
}

void ios::showOnly(llvm::ArrayRef<llvm::StringRef> visible) {
  // One option may answer to several names (a list of literal values, such
  // as the pass list): an option is shown if any of its names is.
  auto &options =
      llvm::cl::getRegisteredOptions();
  llvm::SmallPtrSet<llvm::cl::Option *, 16> shown;
  for (auto &[name, option] : options)
    if (alwaysShown(name) || llvm::is_contained(visible, name))
      shown.insert(option);
  for (auto &[name, option] : options)
    if (!shown.contains(option) &&
        option->getOptionHiddenFlag() == llvm::cl::NotHidden)
      option->setHiddenFlag(llvm::cl::Hidden);
}
