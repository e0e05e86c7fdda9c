//===- FileOutput.cpp - Output files that are whole or absent -------------===//

#include "ios/Support/FileOutput.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <unistd.h>

using namespace llvm;

static Error cannotWrite(StringRef path, std::error_code ec) {
  return createStringError(ec, "cannot write '" + path + "': " + ec.message());
}

/// Flushes `os` and turns its error (if any) into an Error, clearing it so
/// that the stream's destructor does not abort the process.
static Error flushAndCheck(raw_fd_ostream &os, StringRef path) {
  os.flush();
  if (!os.has_error())
    return Error::success();
  std::error_code ec = os.error();
  os.clear_error();
  return cannotWrite(path, ec);
}

Error ios::writeFileAtomically(
    StringRef path, function_ref<Error(raw_ostream &)> write) {
  if (path == "-") {
    if (Error e = write(outs()))
      return e;
    return flushAndCheck(outs(), "<stdout>");
  }

  SmallString<256> target(path);
  sys::fs::file_status status;
  if (!sys::fs::status(path, status) && sys::fs::exists(status)) {
    if (sys::fs::is_directory(status))
      return cannotWrite(path, std::make_error_code(std::errc::is_a_directory));
    if (!sys::fs::is_regular_file(status)) {
      // A device, a pipe or a socket: nothing to replace, write through.
      std::error_code ec;
      raw_fd_ostream os(path, ec, sys::fs::OF_None);
      if (ec)
        return cannotWrite(path, ec);
      if (Error e = write(os)) {
        os.clear_error();
        return e;
      }
      return flushAndCheck(os, path);
    }
    // Replace the file a symlink points to, not the link.
    if (std::error_code ec = sys::fs::real_path(path, target))
      return cannotWrite(path, ec);
  }

  Expected<sys::fs::TempFile> temp = sys::fs::TempFile::create(
      target + ".tmp-%%%%%%", sys::fs::all_read | sys::fs::all_write);
  if (!temp)
    return createStringError("cannot write '" + path +
                             "': cannot create a temporary file next to it: " +
                             toString(temp.takeError()));
  Error result = [&]() -> Error {
    raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    if (Error e = write(os)) {
      os.clear_error();
      return e;
    }
    if (Error e = flushAndCheck(os, path))
      return e;
    // On disk before the rename: a crash then leaves the old or the new
    // file, never an empty one.
    if (::fsync(temp->FD) != 0)
      return cannotWrite(path, std::error_code(errno, std::generic_category()));
    return Error::success();
  }();
  if (result) {
    consumeError(temp->discard());
    return result;
  }
  if (Error e = temp->keep(target))
    return createStringError("cannot write '" + path +
                             "': " + toString(std::move(e)));
  return Error::success();
}
