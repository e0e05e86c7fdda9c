//===- DatabaseProfiler.cpp - Measured stages, replayed -------------------===//

#include "ios/Profiler/DatabaseProfiler.h"

#include "ios/Support/FileOutput.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace ios;
using namespace ios::prof;
using llvm::Expected;
using llvm::StringRef;

namespace {

/// The map key of a measurement: a 128-bit hash of (device, batch, stage
/// signature), stable across processes. The table then holds 24 bytes per
/// record instead of its ~3 KB signature; two different records collide
/// with probability about 2^-128 per pair.
sched::UnitSet entryKey(StringRef device, int64_t batch, StringRef stage) {
  auto bytes = [](StringRef s) {
    return llvm::ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(s.data()), s.size());
  };
  llvm::XXH128_hash_t d = llvm::xxh3_128bits(bytes(device));
  llvm::XXH128_hash_t s = llvm::xxh3_128bits(bytes(stage));
  uint64_t b = uint64_t(batch) * 0x9E3779B97F4A7C15ULL;
  // Mixed by a third hash so that swapping parts never collides.
  uint64_t words[5] = {d.low64, d.high64, b, s.low64, s.high64};
  llvm::XXH128_hash_t k = llvm::xxh3_128bits(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(words), sizeof(words)));
  return sched::UnitSet(k.low64, k.high64);
}

/// Parses one line of the database into its key and latency; the error says
/// what is wrong with it.
Expected<std::pair<sched::UnitSet, double>> parseRecord(StringRef line) {
  Expected<llvm::json::Value> json = llvm::json::parse(line);
  if (!json)
    return json.takeError();
  const llvm::json::Object *o = json->getAsObject();
  std::optional<StringRef> dev, stage;
  std::optional<int64_t> batch;
  std::optional<double> ms;
  if (o) {
    dev = o->getString("device");
    stage = o->getString("stage");
    batch = o->getInteger("batch");
    ms = o->getNumber("latency_ms");
  }
  if (!dev || !stage || !batch || !ms || !isValidLatency(*ms))
    return llvm::createStringError(llvm::formatv(
        "expected {\"device\", \"batch\", \"stage\", \"latency_ms\" in [0, "
        "{0:e0}]}",
        kMaxLatencyMs));
  return std::make_pair(entryKey(*dev, *batch, *stage), *ms);
}

llvm::Error posixError(const llvm::Twine &what) {
  return llvm::createStringError(std::error_code(errno, std::generic_category()),
                                 what + ": " + std::strerror(errno));
}

/// The binary index beside a database, FILE.index (see the header): the
/// records of the database's first `covered` bytes (whole lines), each as
/// its key and latency, and what that file looked like when the index was
/// written. A cache in this machine's byte order: rebuilt whenever it does
/// not match, never needed.
struct IndexHeader {
  char magic[8];
  uint64_t covered;    ///< bytes of the database the records stand for
  uint64_t lines;      ///< lines in those bytes (for line numbers after)
  uint64_t prefixHash; ///< xxh3-64 of those bytes
  /// The database when the index was written (identity: unchanged since).
  uint64_t size, mtimeNs, inode, device;
  uint64_t count; ///< records that follow
};
struct IndexRecord {
  uint64_t lo, hi;
  double ms;
};
static_assert(sizeof(IndexRecord) == 24, "packed records");
constexpr char kIndexMagic[8] = {'I', 'O', 'S', 'D', 'B', 'I', 'X', '1'};

llvm::ArrayRef<uint8_t> bytesOf(const void *data, size_t size) {
  return llvm::ArrayRef<uint8_t>(static_cast<const uint8_t *>(data), size);
}

uint64_t mtimeNs(const struct stat &st) {
  return uint64_t(st.st_mtim.tv_sec) * 1000000000ULL +
         uint64_t(st.st_mtim.tv_nsec);
}

/// Reads `size` bytes at `offset` of `fd` into `out`.
bool readAt(int fd, off_t offset, size_t size, std::string &out) {
  out.resize(size);
  for (size_t done = 0; done < size;) {
    ssize_t n = pread(fd, &out[done], size - done, offset + off_t(done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += size_t(n);
  }
  return true;
}

/// The index of `path` if it is whole and matches `st` (the database now):
/// unchanged since it was written, or only appended to (its first
/// `covered` bytes still hash the same). Else nothing.
/// `file` is the database's content (mapped: what is not read is not
/// loaded).
std::optional<std::pair<IndexHeader, std::vector<IndexRecord>>>
readIndex(const std::string &path, StringRef file, const struct stat &st) {
  auto buffer = llvm::MemoryBuffer::getFile(path + ".index", /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  StringRef data = (*buffer)->getBuffer();
  IndexHeader h;
  if (data.size() < sizeof(h))
    return std::nullopt;
  std::memcpy(&h, data.data(), sizeof(h));
  if (std::memcmp(h.magic, kIndexMagic, sizeof(kIndexMagic)) != 0 ||
      h.count > (data.size() - sizeof(h)) / sizeof(IndexRecord) ||
      data.size() != sizeof(h) + h.count * sizeof(IndexRecord) ||
      h.covered > uint64_t(st.st_size))
    return std::nullopt;
  StringRef records = data.drop_front(sizeof(h));
  bool same = h.size == uint64_t(st.st_size) && h.mtimeNs == mtimeNs(st) &&
              h.inode == uint64_t(st.st_ino) && h.device == uint64_t(st.st_dev);
  if (!same) {
    // Changed since: still good if what it covers is unchanged (appends).
    if (llvm::xxh3_64bits(bytesOf(file.data(), h.covered)) != h.prefixHash)
      return std::nullopt;
  }
  std::vector<IndexRecord> out(h.count);
  if (h.count)
    std::memcpy(out.data(), records.data(), records.size());
  return std::make_pair(h, std::move(out));
}

/// Writes the index of database `path` (`st`): its records `entries`,
/// standing for its first bytes `prefix` (whole lines, `lines` of them).
void writeIndex(const std::string &path,
                const sched::UnitSetMap<double> &entries,
                const struct stat &st, StringRef prefix, uint64_t lines) {
  std::vector<IndexRecord> records;
  records.reserve(entries.size());
  entries.forEach([&](sched::UnitSet k, double ms) {
    records.push_back({k.lo, k.hi, ms});
  });
  // Sorted: the same records give the same index.
  llvm::sort(records, [](const IndexRecord &a, const IndexRecord &b) {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  });
  IndexHeader h;
  std::memcpy(h.magic, kIndexMagic, sizeof(kIndexMagic));
  h.covered = prefix.size();
  h.lines = lines;
  h.prefixHash = llvm::xxh3_64bits(bytesOf(prefix.data(), prefix.size()));
  h.size = uint64_t(st.st_size);
  h.mtimeNs = mtimeNs(st);
  h.inode = uint64_t(st.st_ino);
  h.device = uint64_t(st.st_dev);
  h.count = records.size();
  // Best effort: a database in a folder we cannot write still loads (from
  // its JSON, each time).
  llvm::consumeError(
      writeFileAtomically(path + ".index", [&](llvm::raw_ostream &os) {
        os.write(reinterpret_cast<const char *>(&h), sizeof(h));
        os.write(reinterpret_cast<const char *>(records.data()),
                 records.size() * sizeof(IndexRecord));
        return llvm::Error::success();
      }));
}

} // namespace

Expected<std::unique_ptr<Profiler>>
DatabaseProfiler::open(StringRef path, StringRef device,
                       std::unique_ptr<Profiler> recorder) {
  auto db = std::unique_ptr<DatabaseProfiler>(new DatabaseProfiler());
  db->path = path.str();
  db->recorder = std::move(recorder);
  std::string target = db->targetDevice();
  db->device = target.empty() ? device.str() : target;
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(path, status) ||
      !llvm::sys::fs::exists(status)) {
    if (!db->recorder)
      return llvm::createStringError(
          "stage database '" + path.str() +
          "' does not exist; create it with record=PROFILER");
    return std::unique_ptr<Profiler>(std::move(db));
  }
  if (!llvm::sys::fs::is_regular_file(status))
    return llvm::createStringError("stage database '" + path.str() +
                                   "' is not a regular file");
  int fd = ::open(db->path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0)
      ::close(fd);
    return llvm::createStringError("cannot read stage database '" +
                                   path.str() + "': " + why);
  }
  llvm::scope_exit closeFd([&] { ::close(fd); });
  auto buffer = llvm::MemoryBuffer::getOpenFile(
      fd, path, uint64_t(st.st_size), /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError("cannot read stage database '" +
                                   path.str() +
                                   "': " + buffer.getError().message());
  StringRef file = (*buffer)->getBuffer();
  // The index answers for the lines it covers; the rest (records appended
  // since, a torn last line) is parsed.
  uint64_t from = 0, firstLine = 1;
  bool indexCurrent = false;
  if (auto index = readIndex(db->path, file, st)) {
    auto &[h, records] = *index;
    db->entries.reserve(records.size());
    for (const IndexRecord &r : records)
      db->insert(sched::UnitSet(r.lo, r.hi), r.ms);
    from = h.covered;
    firstLine = h.lines + 1;
    indexCurrent = h.size == uint64_t(st.st_size) &&
                   h.mtimeNs == mtimeNs(st) && h.inode == uint64_t(st.st_ino) &&
                   h.device == uint64_t(st.st_dev);
  }
  StringRef text = file.drop_front(from);
  StringRef rest = text;
  uint64_t covered = from, lineNo = firstLine;
  for (; !rest.empty(); ++lineNo) {
    size_t nl = rest.find('\n');
    StringRef line = rest.take_front(nl);
    rest = nl == StringRef::npos ? StringRef() : rest.drop_front(nl + 1);
    if (nl != StringRef::npos)
      covered += nl + 1;
    if (line.trim().empty())
      continue;
    Expected<std::pair<sched::UnitSet, double>> record = parseRecord(line);
    if (record) {
      db->insert(record->first, record->second);
      continue;
    }
    std::string why = llvm::toString(record.takeError());
    if (nl == StringRef::npos) {
      // The last line, without its newline: a record whose write was
      // interrupted. Everything before it is good.
      llvm::WithColor::warning(llvm::errs())
          << "stage database '" << path << "' line " << lineNo
          << ": ignoring an incomplete last record (an interrupted "
             "recording; the next recording removes it): "
          << why << "\n";
      break;
    }
    return llvm::createStringError(
        llvm::formatv("stage database '{0}' line {1}: {2}", path, lineNo, why)
            .str());
  }
  if (!indexCurrent)
    writeIndex(db->path, db->entries, st, file.take_front(covered),
               firstLine - 1 + text.take_front(covered - from).count('\n'));
  return std::unique_ptr<Profiler>(std::move(db));
}

llvm::Error DatabaseProfiler::append(StringRef line) {
  if (!llvm::sys::fs::exists(path))
    return writeFileAtomically(path, [&](llvm::raw_ostream &os) {
      os << line;
      return llvm::Error::success();
    });
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return posixError("cannot append to stage database '" + path + "'");
  llvm::scope_exit closeFd([&] { ::close(fd); });
  // One recorder at a time between the repair and the write (the lock goes
  // with the descriptor).
  while (flock(fd, LOCK_EX) != 0)
    if (errno != EINTR)
      return posixError("cannot lock stage database '" + path + "'");
  struct stat st;
  if (fstat(fd, &st) != 0)
    return posixError("cannot append to stage database '" + path + "'");
  off_t size = st.st_size;
  std::string out;
  std::string last;
  if (size > 0 && (!readAt(fd, size - 1, 1, last) || last != "\n")) {
    // The file does not end with a newline: find its last line.
    off_t start = size;
    std::string chunk;
    while (start > 0) {
      off_t from = std::max<off_t>(0, start - 65536);
      if (!readAt(fd, from, size_t(start - from), chunk))
        return posixError("cannot read stage database '" + path + "'");
      size_t nl = chunk.rfind('\n');
      if (nl != std::string::npos) {
        start = from + off_t(nl) + 1;
        break;
      }
      start = from;
    }
    std::string tail;
    if (!readAt(fd, start, size_t(size - start), tail))
      return posixError("cannot read stage database '" + path + "'");
    Expected<std::pair<sched::UnitSet, double>> record = parseRecord(tail);
    if (record) {
      out = "\n"; // a whole record, only its newline missing: keep it
    } else {
      llvm::consumeError(record.takeError());
      if (ftruncate(fd, start) != 0) // a torn record: cut it off
        return posixError("cannot repair stage database '" + path + "'");
      size = start;
    }
  }
  out += line;
  for (size_t done = 0; done < out.size();) {
    ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      // A full disk: take back the part that was written, the file stays a
      // list of whole records.
      llvm::Error e = posixError("cannot append to stage database '" + path +
                                 "'");
      (void)!ftruncate(fd, size);
      return e;
    }
    done += size_t(n);
  }
  return llvm::Error::success();
}

Expected<double> DatabaseProfiler::measure(const sched::Graph &g,
                                           const sched::Stage &stage) {
  // One buffer per thread (replays run on several): no string per lookup.
  thread_local std::string signature;
  sched::canonicalStageSignature(g, stage, signature);
  int64_t batch = g.nodeById(stage.groups.front().front()).sig.batch;
  sched::UnitSet k = entryKey(device, batch, signature);
  if (const double *ms = entries.find(k)) {
    ++hits;
    return *ms;
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
  // An absurd latency is not recorded; ProfilerCost::getCost reports it.
  if (!isValidLatency(*ms))
    return *ms;
  if (llvm::Error e = record(k, batch, signature, *ms))
    return std::move(e);
  return *ms;
}

llvm::Error DatabaseProfiler::record(sched::UnitSet key, int64_t batch,
                                     StringRef stage, double ms) {
  std::string line;
  llvm::raw_string_ostream(line)
      << llvm::json::Value(llvm::json::Object{{"device", device},
                                              {"batch", batch},
                                              {"stage", stage},
                                              {"latency_ms", ms}})
      << "\n";
  if (llvm::Error e = append(line))
    return e;
  insert(key, ms);
  ++recorded;
  return llvm::Error::success();
}

Expected<std::optional<std::vector<double>>>
DatabaseProfiler::timePrograms(int64_t batch,
                               llvm::ArrayRef<std::string> modules) {
  // A program's record is keyed by a hash of its text: a 128-bit xxh3 is
  // as unlikely to collide as the stage keys, and keeps lines short.
  std::vector<std::string> names;
  std::vector<sched::UnitSet> keys;
  std::vector<double> found;
  for (const std::string &text : modules) {
    llvm::XXH128_hash_t h =
        llvm::xxh3_128bits(bytesOf(text.data(), text.size()));
    names.push_back(
        llvm::formatv("program {0:x-16}{1:x-16}", h.high64, h.low64));
    keys.push_back(entryKey(device, batch, names.back()));
    if (const double *ms = entries.find(keys.back()))
      found.push_back(*ms);
  }
  if (found.size() == modules.size()) {
    hits += found.size();
    return std::optional<std::vector<double>>(std::move(found));
  }
  if (!recorder)
    return std::nullopt;
  // Programs compared are timed together (interleaved), so a miss re-times
  // all of them.
  Expected<std::optional<std::vector<double>>> ms =
      recorder->timePrograms(batch, modules);
  if (!ms || !*ms)
    return ms;
  for (auto [key, name, latency] : llvm::zip_equal(keys, names, **ms)) {
    if (!isValidLatency(latency))
      continue; // the caller reports it
    if (llvm::Error e = record(key, batch, name, latency))
      return std::move(e);
  }
  return ms;
}
