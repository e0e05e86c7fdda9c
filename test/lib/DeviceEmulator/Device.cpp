//===- Device.cpp - The emulated device's state ---------------------------===//

#include "Device.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unistd.h>

using namespace ios::emu;

//===----------------------------------------------------------------------===//
// Clocks, streams, ops
//===----------------------------------------------------------------------===//

Clock VectorClock::tick(size_t actor) {
  if (c.size() <= actor)
    c.resize(actor + 1, 0);
  return ++c[actor];
}

void VectorClock::join(const VectorClock &other) {
  if (c.size() < other.c.size())
    c.resize(other.c.size(), 0);
  for (size_t i = 0; i < other.c.size(); ++i)
    c[i] = std::max(c[i], other.c[i]);
}

std::string Stream::name() const {
  if (!label.empty())
    return label;
  if (number == 0)
    return "the legacy default stream";
  return "stream " + std::to_string(number) +
         (nonBlocking ? " (non-blocking)" : " (blocking)");
}

void Op::read(const void *p, size_t bytes, std::string role) {
  if (bytes)
    accesses.push_back({uintptr_t(p), uintptr_t(p) + bytes, false,
                        std::move(role)});
}

void Op::write(const void *p, size_t bytes, std::string role) {
  if (bytes)
    accesses.push_back({uintptr_t(p), uintptr_t(p) + bytes, true,
                        std::move(role)});
}

void Op::strided(const void *p, int64_t count, int64_t bytes, int64_t stride,
                 bool write, const std::string &role) {
  if (count <= 0 || bytes <= 0)
    return;
  if (stride == bytes) { // one block
    accesses.push_back({uintptr_t(p), uintptr_t(p) + size_t(count * bytes),
                        write, role});
    return;
  }
  for (int64_t i = 0; i < count; ++i) {
    uintptr_t b = uintptr_t(p) + uintptr_t(i * stride);
    accesses.push_back({b, b + size_t(bytes), write, role});
  }
}

size_t Op::bytes() const {
  size_t n = 0;
  for (const Access &a : accesses)
    n += a.end - a.begin;
  return n;
}

//===----------------------------------------------------------------------===//
// Calls and the trace
//===----------------------------------------------------------------------===//

DeviceLock::DeviceLock() : lock(Device::get().mutex) {}

Call::Call(const char *name, std::string detail)
    : seq_(Device::get().beginCall(name, std::move(detail))) {}

void Call::setStream(const Stream *s) {
  stream_ = s ? s->number : -1;
  Device::get().setCallStream(seq_, stream_);
}

Call::~Call() {
  Device::get().endCall(seq_, stream_, bytes_, flops_, status_);
}

namespace {

std::string programName() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string argv0;
  std::getline(in, argv0, '\0');
  size_t slash = argv0.rfind('/');
  return slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
}

std::string json(const std::string &s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\')
      out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      out += buf;
      continue;
    }
    out += ch;
  }
  return out + "\"";
}

void atExit() {
  Device &d = Device::get();
  std::lock_guard<std::recursive_mutex> lock(d.mutex);
  d.writeTrace();
  if (d.pending()) {
    std::fprintf(stderr,
                 "ios-emu: %zu report(s) above; exiting with status %d\n",
                 d.pending(), kReportExitStatus);
    std::fflush(nullptr);
    _exit(kReportExitStatus);
  }
  std::fflush(nullptr);
}

} // namespace

Device &Device::get() {
  static Device *device = new Device();
  return *device;
}

namespace {
int64_t steadyNanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
} // namespace

int64_t Device::now() const { return steadyNanoseconds() - epoch; }

Device::Device() {
  epoch = steadyNanoseconds();
  linkNvtxTool();
  legacyStream.actor = kLegacyActor;
  legacyStream.number = 0;
  const char *h = std::getenv("IOS_EMU_HALT_ON_ERROR");
  halt = h && *h && std::strcmp(h, "0");
  if (const char *path = std::getenv("IOS_EMU_TRACE"); path && *path) {
    trace = std::fopen(path, "w");
    if (!trace)
      std::fprintf(stderr, "ios-emu: cannot write the trace '%s'\n", path);
    else
      std::fprintf(trace, "{\"program\":%s}\n", json(programName()).c_str());
  }
  std::atexit(atExit);
}

uint64_t Device::beginCall(const char *name, std::string detail) {
  int64_t begin = now();
  std::string full = detail.empty() ? name : std::string(name) + " " + detail;
  ++callCounts[full];
  CallInfo c;
  c.name = std::move(full);
  c.op = ranges.empty() ? std::string() : ranges.back();
  c.begin = begin;
  c.depth = depth++;
  calls.push_back(std::move(c));
  return calls.size();
}

void Device::endCall(uint64_t seq, int stream, size_t bytes, double flops,
                     int status) {
  CallInfo &c = calls[seq - 1];
  c.end = now();
  --depth;
  c.bytes = bytes;
  c.flops = flops;
  c.status = status;
  // The trace is written at exit (writeTrace), so that writing it does not
  // count as the program's own time between calls; calls made after that
  // (static destructors) are written at once.
  if (traceWritten)
    writeTrace();
}

void Device::writeTrace() {
  if (!trace)
    return;
  auto writeMarks = [&](size_t before) {
    for (; marksTraced < marks.size() && marks[marksTraced].first <= before;
         ++marksTraced)
      std::fprintf(trace, "{\"mark\":%s,\"before\":%zu}\n",
                   json(marks[marksTraced].second).c_str(),
                   marks[marksTraced].first + 1);
  };
  for (; traced < calls.size() && calls[traced].end >= 0; ++traced) {
    writeMarks(traced);
    const CallInfo &c = calls[traced];
    std::string line =
        "{\"seq\":" + std::to_string(traced + 1) + ",\"call\":" +
        json(c.name) + ",\"stream\":" +
        (c.stream < 0 ? std::string("null") : std::to_string(c.stream)) +
        ",\"op\":" + (c.op.empty() ? "null" : json(c.op)) +
        ",\"bytes\":" + std::to_string(c.bytes) +
        ",\"flops\":" + std::to_string(uint64_t(c.flops)) +
        ",\"status\":" + std::to_string(c.status) +
        ",\"t0\":" + std::to_string(c.begin) +
        ",\"t1\":" + std::to_string(c.end) +
        (c.depth ? ",\"nested\":true" : "") + "}\n";
    std::fputs(line.c_str(), trace);
  }
  if (traced == calls.size())
    writeMarks(traced);
  std::fflush(trace);
  traceWritten = true;
}

std::string Device::describeCall(uint64_t seq) const {
  if (seq == 0 || seq > calls.size())
    return "call #" + std::to_string(seq);
  const CallInfo &c = calls[seq - 1];
  std::string s = "call #" + std::to_string(seq) + " " + c.name;
  if (c.stream == 0)
    s += " on the legacy default stream";
  else if (c.stream > 0)
    s += " on " + streams[size_t(c.stream) - 1]->name();
  else
    s += " by the host";
  if (!c.op.empty())
    s += " (in '" + c.op + "')";
  return s;
}

//===----------------------------------------------------------------------===//
// Reports
//===----------------------------------------------------------------------===//

void Device::report(const char *kind, const std::string &message) {
  reports.push_back({kind, message});
  if (printed < 100) {
    std::fprintf(stderr, "ios-emu: %s: %s\n", kind, message.c_str());
    if (++printed == 100)
      std::fprintf(stderr, "ios-emu: further reports are counted only\n");
  }
  if (halt) {
    writeTrace();
    std::fflush(nullptr);
    std::abort();
  }
}

std::vector<Report> Device::take() {
  std::vector<Report> out;
  out.swap(reports);
  reportedReads.clear();
  reportedPairs.clear();
  return out;
}

std::vector<Report> ios::emu::takeReports() {
  Device &d = Device::get();
  std::lock_guard<std::recursive_mutex> lock(d.mutex);
  return d.take();
}

std::map<std::string, uint64_t> ios::emu::apiCalls() {
  Device &d = Device::get();
  std::lock_guard<std::recursive_mutex> lock(d.mutex);
  return d.callCounts;
}

//===----------------------------------------------------------------------===//
// Streams and events
//===----------------------------------------------------------------------===//

Stream *Device::stream(cudaStream_t s, const char *api) {
  if (s == nullptr || s == cudaStreamLegacy)
    return &legacyStream;
  if (s == cudaStreamPerThread) {
    report("api", std::string(api) +
                      ": the per-thread default stream is not emulated");
    return nullptr;
  }
  for (auto &p : streams)
    if (reinterpret_cast<cudaStream_t>(p.get()) == s) {
      if (p->destroyed) {
        report("api", std::string(api) + ": " + p->name() +
                          " was destroyed (cudaStreamDestroy)");
        return nullptr;
      }
      return p.get();
    }
  report("api", std::string(api) + ": not a stream handle");
  return nullptr;
}

Stream *Device::createStream(bool nonBlocking) {
  auto s = std::make_unique<Stream>();
  s->actor = nextActor++;
  s->number = int(streams.size()) + 1;
  s->nonBlocking = nonBlocking;
  streams.push_back(std::move(s));
  return streams.back().get();
}

bool Device::destroyStream(cudaStream_t s) {
  Stream *st = stream(s, "cudaStreamDestroy");
  if (!st)
    return false;
  if (st == &legacyStream) {
    report("api", "cudaStreamDestroy: the legacy default stream cannot be "
                  "destroyed");
    return false;
  }
  st->destroyed = true; // kept: its epochs may still be in the shadow
  return true;
}

std::vector<Stream *> Device::allStreams() {
  // Destroyed streams too: their work still completes.
  std::vector<Stream *> out = {&legacyStream};
  for (auto &s : streams)
    out.push_back(s.get());
  return out;
}

Event *Device::event(cudaEvent_t e, const char *api) {
  for (auto &p : events)
    if (reinterpret_cast<cudaEvent_t>(p.get()) == e) {
      if (p->destroyed) {
        report("api", std::string(api) + ": event " +
                          std::to_string(p->number) +
                          " was destroyed (cudaEventDestroy)");
        return nullptr;
      }
      return p.get();
    }
  report("api", std::string(api) + ": not an event handle");
  return nullptr;
}

Event *Device::createEvent() {
  auto e = std::make_unique<Event>();
  e->number = int(events.size()) + 1;
  events.push_back(std::move(e));
  return events.back().get();
}

bool Device::destroyEvent(cudaEvent_t e) {
  Event *ev = event(e, "cudaEventDestroy");
  if (!ev)
    return false;
  ev->destroyed = true;
  return true;
}

//===----------------------------------------------------------------------===//
// Ordering
//===----------------------------------------------------------------------===//

void Device::enqueue(Op &op, Stream *s, uint64_t call) {
  op.call = call;
  op.stream = s;
  // Host program order: the op comes after everything the host has done or
  // seen complete.
  s->vc.join(host);
  if (s == &legacyStream) {
    // Legacy default stream: waits for all prior work of blocking streams.
    for (auto &other : streams)
      if (!other->nonBlocking)
        s->vc.join(other->vc);
  } else if (!s->nonBlocking) {
    // A blocking stream's work waits for prior legacy-stream work.
    s->vc.join(legacyStream.vc);
  }
  op.epoch = {s->actor, s->vc.tick(size_t(s->actor)), call, false};
  op.vc = s->vc;
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

void *Device::allocate(size_t bytes, const char *how, bool pinnedHost,
                       uint64_t call) {
  size_t size = std::max<size_t>(bytes, 1);
  // cudaMalloc's alignment (256 bytes), and a poisoned start: a read of
  // memory nothing wrote is a NaN, not a plausible zero.
  void *p = std::aligned_alloc(256, (size + 255) / 256 * 256);
  if (!p)
    return nullptr;
  std::memset(p, pinnedHost ? 0 : 0xff, size);
  Allocation a;
  a.base = uintptr_t(p);
  a.size = size;
  a.id = nextAllocation++;
  a.how = how;
  a.pinnedHost = pinnedHost;
  a.call = call;
  allocations[a.base] = a;
  return p;
}

Allocation *Device::allocationAt(const void *p) {
  auto it = allocations.find(uintptr_t(p));
  return it == allocations.end() ? nullptr : &it->second;
}

const Allocation *Device::allocationFor(const void *p, size_t bytes) const {
  uintptr_t b = uintptr_t(p);
  auto it = allocations.upper_bound(b);
  if (it == allocations.begin())
    return nullptr;
  --it;
  const Allocation &a = it->second;
  if (b < a.base || b + bytes > a.base + a.size)
    return nullptr;
  return &a;
}

bool Device::isDevice(const void *p) const {
  const Allocation *a = allocationFor(p, 1);
  return a && !a->pinnedHost;
}

bool Device::isPinnedHost(const void *p) const {
  const Allocation *a = allocationFor(p, 1);
  return a && a->pinnedHost;
}

void Device::release(Allocation *a, uint64_t call) {
  a->freedBy = call;
  uintptr_t b = a->base, e = a->base + a->size;
  split(b);
  split(e);
  shadow.erase(shadow.lower_bound(b), shadow.lower_bound(e));
  void *p = reinterpret_cast<void *>(a->base);
  freed[a->base] = *a;
  allocations.erase(a->base);
  std::free(p);
}

std::string Device::describeAddress(uintptr_t p) const {
  const Allocation *a = allocationFor(reinterpret_cast<const void *>(p), 1);
  if (!a) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(p));
    // Freed memory the C library has not handed out again: say so.
    auto it = freed.upper_bound(p);
    if (it != freed.begin() && p < std::prev(it)->first +
                                       std::prev(it)->second.size) {
      const Allocation &f = std::prev(it)->second;
      return std::string(buf) + " (byte " + std::to_string(p - f.base) +
             " of allocation #" + std::to_string(f.id) + ", freed by call #" +
             std::to_string(f.freedBy) + ")";
    }
    return buf;
  }
  return "byte " + std::to_string(p - a->base) + " of allocation #" +
         std::to_string(a->id) + " (" + a->how + ", " +
         std::to_string(a->size) + " bytes)";
}

std::string ios::emu::checkDeviceRange(const Device &d, const void *p,
                                       size_t bytes, const std::string &role) {
  if (!bytes)
    return {};
  const Allocation *a = d.allocationFor(p, bytes);
  if (a && !a->pinnedHost)
    return {};
  std::string what = role + ": " + std::to_string(bytes) + " bytes at " +
                     d.describeAddress(uintptr_t(p));
  if (!d.allocationFor(p, 1))
    return what + " are not device memory";
  if (a && a->pinnedHost)
    return what + " are page-locked host memory, not device memory";
  return what + " run past the end of the allocation";
}

//===----------------------------------------------------------------------===//
// Races
//===----------------------------------------------------------------------===//

void Device::split(uintptr_t at) {
  auto it = shadow.upper_bound(at);
  if (it == shadow.begin())
    return;
  --it;
  if (it->first < at && at < it->second.end) {
    Cell tail = it->second;
    it->second.end = at;
    shadow.emplace(at, std::move(tail));
  }
}

bool Device::happensBefore(const Epoch &e, const Op &op) const {
  return e.actor == op.epoch.actor ||
         op.vc.at(size_t(e.actor)) >= e.clock;
}

void Device::race(const Op &op, const Access &a, const Epoch &other,
                  bool otherWrote, uintptr_t at) {
  // One report per pair of calls (by name and op) and kind: the same race
  // in every inference is one bug.
  const CallInfo &mine = calls[op.call - 1], &theirs = calls[other.call - 1];
  if (!reportedPairs
           .insert(theirs.name + "|" + theirs.op + "|" + mine.name + "|" +
                   mine.op + (a.write ? "|w" : "|r"))
           .second)
    return;
  report("race",
         describeCall(op.call) + " " + (a.write ? "writes" : "reads") + " " +
             a.role + " at " + describeAddress(at) + ", last " +
             (otherWrote ? "written" : "read") + " by " +
             describeCall(other.call) +
             ", and nothing orders the two (no event wait, stream "
             "synchronization or stream-ordering rule between them)");
}

void Device::checkAndRecord(const Op &op, const Access &a) {
  split(a.begin);
  split(a.end);
  uintptr_t cursor = a.begin;
  auto it = shadow.lower_bound(a.begin);
  auto visit = [&](Cell &cell, uintptr_t begin) {
    if (cell.write.valid() && !happensBefore(cell.write, op))
      race(op, a, cell.write, true, begin);
    else if (!a.write && (!cell.write.valid() || cell.write.allocation) &&
             reportedReads.insert(op.call).second)
      report("memory", describeCall(op.call) + " reads " + a.role + " at " +
                           describeAddress(begin) +
                           ", which nothing has written since it was "
                           "allocated");
    if (a.write) {
      for (const Epoch &r : cell.reads)
        if (!happensBefore(r, op))
          race(op, a, r, false, begin);
      cell.write = op.epoch;
      cell.write.allocation = op.allocation;
      cell.reads.clear();
    } else {
      auto same = std::find_if(cell.reads.begin(), cell.reads.end(),
                               [&](const Epoch &r) {
                                 return r.actor == op.epoch.actor;
                               });
      if (same != cell.reads.end())
        *same = op.epoch;
      else
        cell.reads.push_back(op.epoch);
    }
  };
  while (cursor < a.end) {
    if (it == shadow.end() || it->first >= a.end || it->first > cursor) {
      // A gap: memory no operation touched yet.
      uintptr_t end = (it == shadow.end() || it->first >= a.end)
                          ? a.end
                          : it->first;
      Cell fresh{end, {}, {}};
      auto inserted = shadow.emplace(cursor, fresh).first;
      visit(inserted->second, cursor);
      cursor = end;
      it = std::next(inserted);
      continue;
    }
    visit(it->second, it->first);
    cursor = it->second.end;
    ++it;
  }
  if (!a.write)
    return;
  // The written range now has one state: merge its cells.
  auto first = shadow.find(a.begin);
  auto last = shadow.lower_bound(a.end);
  if (first != shadow.end() && std::next(first) != last) {
    first->second.end = a.end;
    shadow.erase(std::next(first), last);
  }
}

bool Device::executeOnHost(Op &op, uint64_t call) {
  op.call = call;
  op.epoch = {kHostActor, host.tick(kHostActor), call, false};
  op.vc = host;
  return execute(op);
}

bool Device::submit(Op &op, Stream *s, uint64_t call,
                    std::function<void()> work) {
  if (s->capture) {
    Graph::Node &n = addNode(s, Graph::Node::Work, call);
    n.accesses = std::move(op.accesses);
    n.flops = op.flops;
    n.work = std::move(work);
    return true;
  }
  enqueue(op, s, call);
  if (!execute(op))
    return false;
  work();
  return true;
}

bool Device::execute(Op &op) {
  bool good = true;
  for (const Access &a : op.accesses)
    if (std::string e = checkDeviceRange(*this, reinterpret_cast<void *>(
                                                    a.begin),
                                         a.end - a.begin, a.role);
        !e.empty()) {
      report("memory", describeCall(op.call) + ": " + e);
      good = false;
    }
  if (!good)
    return false;
  // Reads first: an operation may read and write the same range (in place).
  for (const Access &a : op.accesses)
    if (!a.write)
      checkAndRecord(op, a);
  for (const Access &a : op.accesses)
    if (a.write)
      checkAndRecord(op, a);
  return true;
}
