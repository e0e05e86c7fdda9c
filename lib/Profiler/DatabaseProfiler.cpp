//===- DatabaseProfiler.cpp - Measured stages, replayed -------------------===//

#include "ios/Profiler/DatabaseProfiler.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace ios;
using namespace ios::prof;
using llvm::Expected;

std::string DatabaseProfiler::key(int64_t batch, llvm::StringRef stage) const {
  return llvm::formatv("{0}|{1}|{2}", device, batch, stage).str();
}

Expected<std::unique_ptr<Profiler>>
DatabaseProfiler::open(llvm::StringRef path, llvm::StringRef device,
                       std::unique_ptr<Profiler> recorder) {
  auto db = std::unique_ptr<DatabaseProfiler>(new DatabaseProfiler());
  db->path = path.str();
  db->device = device.str();
  db->recorder = std::move(recorder);
  if (!llvm::sys::fs::exists(path)) {
    if (!db->recorder)
      return llvm::createStringError(
          "stage database '" + path.str() +
          "' does not exist; create it with record=PROFILER");
    return std::unique_ptr<Profiler>(std::move(db));
  }
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError("cannot read stage database '" +
                                   path.str() +
                                   "': " + buffer.getError().message());
  llvm::SmallVector<llvm::StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n', -1, false);
  for (auto [i, line] : llvm::enumerate(lines)) {
    if (line.trim().empty())
      continue;
    auto bad = [&](const llvm::Twine &why) {
      return llvm::createStringError(
          llvm::formatv("stage database '{0}' line {1}: {2}", path, i + 1,
                        why.str())
              .str());
    };
    Expected<llvm::json::Value> json = llvm::json::parse(line);
    if (!json)
      return bad(llvm::toString(json.takeError()));
    const llvm::json::Object *o = json->getAsObject();
    std::optional<llvm::StringRef> dev, stage;
    std::optional<int64_t> batch;
    std::optional<double> ms;
    if (o) {
      dev = o->getString("device");
      stage = o->getString("stage");
      batch = o->getInteger("batch");
      ms = o->getNumber("latency_ms");
    }
    if (!dev || !stage || !batch || !ms || *ms < 0)
      return bad("expected {\"device\", \"batch\", \"stage\", "
                 "\"latency_ms\" >= 0}");
    db->entries[llvm::formatv("{0}|{1}|{2}", *dev, *batch, *stage).str()] =
        *ms;
  }
  return std::unique_ptr<Profiler>(std::move(db));
}

Expected<double> DatabaseProfiler::measure(const sched::Graph &g,
                                           const sched::Stage &stage) {
  std::string signature = sched::canonicalStageSignature(g, stage);
  int64_t batch = g.nodeById(stage.groups.front().front()).sig.batch;
  std::string k = key(batch, signature);
  if (auto it = entries.find(k); it != entries.end()) {
    ++hits;
    return it->second;
  }
  if (!recorder)
    return llvm::createStringError(
        llvm::formatv("stage database '{0}' has no measurement for device "
                      "'{1}', batch {2}, stage {3}; record one with "
                      "record=PROFILER",
                      path, device, batch, signature)
            .str());
  Expected<double> ms = recorder->measure(g, stage);
  if (!ms)
    return ms.takeError();
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Append);
  if (ec)
    return llvm::createStringError("cannot append to stage database '" +
                                   path + "': " + ec.message());
  os << llvm::json::Value(llvm::json::Object{{"device", device},
                                             {"batch", batch},
                                             {"stage", signature},
                                             {"latency_ms", *ms}})
     << "\n";
  entries[k] = *ms;
  ++recorded;
  return *ms;
}
