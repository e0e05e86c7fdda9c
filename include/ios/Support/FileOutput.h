//===- FileOutput.h - Output files that are whole or absent -----*- C++ -*-===//
//
// Every file the tools write (ios-opt -o, ios-translate -o, a new stage
// database, --ios-schedule's report=FILE) goes through writeFileAtomically:
// the content is written to a temporary file in the same directory and
// renamed over the target only when everything was written, so a failure
// (a full disk, an error of the producer, a kill) never leaves a half file
// in place of a good one. I/O errors come back as llvm::Error, never as
// raw_fd_ostream's "LLVM ERROR: IO failure on output stream".
//
//===----------------------------------------------------------------------===//

#ifndef IOS_SUPPORT_FILEOUTPUT_H
#define IOS_SUPPORT_FILEOUTPUT_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace ios {

/// Writes `path` with what `write` prints:
///  * a regular file (new or existing) or a symlink to one: through a
///    temporary `PATH.tmp-XXXXXX` next to the (resolved) target, flushed to
///    disk and renamed over it on success; on any failure the temporary is
///    removed and the old file (if any) is untouched;
///  * "-": standard output;
///  * an existing device, pipe or socket (/dev/null, /dev/stdout, a FIFO):
///    written in place, there is nothing to replace;
///  * a directory: an error.
/// An error of `write` is returned as is (nothing is written); an I/O error
/// is "cannot write 'PATH': REASON".
///
/// Example (the report of --ios-schedule):
///   if (llvm::Error e = ios::writeFileAtomically(
///           report, [&](llvm::raw_ostream &os) {
///             os << llvm::formatv("{0:2}", json) << "\n";
///             return llvm::Error::success();
///           }))
///     module.emitError() << "ios-schedule: " << llvm::toString(std::move(e));
llvm::Error writeFileAtomically(
    llvm::StringRef path,
    llvm::function_ref<llvm::Error(llvm::raw_ostream &)> write);

} // namespace ios

#endif // IOS_SUPPORT_FILEOUTPUT_H
