//===- Device.h - The emulated device's state -------------------*- C++ -*-===//
//
// Design. Device memory is host memory (cudaMalloc'd bytes start as 0xff:
// NaN floats). Every operation runs eagerly, on the calling thread, in the
// order the host enqueues it, so results are reproducible; what a GPU would
// run concurrently is modelled, not executed:
//
//  * Happens-before with vector clocks. Actors are the host (0), the legacy
//    default stream (1) and each created stream. An operation enqueued on
//    stream S ticks S's clock and inherits the host's knowledge (host
//    program order), the legacy stream's work if S is blocking, and every
//    blocking stream's work if S is the legacy stream (the legacy default
//    stream's rule; cudaStreamNonBlocking streams skip both).
//    cudaEventRecord snapshots the stream's clock into the event,
//    cudaStreamWaitEvent joins it into the waiting stream, and
//    cudaStreamSynchronize / cudaEventSynchronize / cudaDeviceSynchronize
//    join into the host. Copies follow the CUDA runtime's documented host
//    synchronisation (cudaMemcpy from pageable memory returns before the
//    DMA lands, cudaMemset is asynchronous, a device-to-pageable copy
//    returns once done; see Runtime.cpp).
//  * Shadow memory: an interval map over device addresses keeping, per
//    range, the last write (actor, clock, call) and the reads since. Every
//    kernel, cuDNN call, copy, memset, stream-ordered allocation and free
//    declares the ranges it reads and writes; an access not ordered after a
//    conflicting one on another actor is a race, reported with both calls.
//    A read of bytes never written since their allocation is reported too.
//  * Every address an operation touches must lie in one live allocation
//    (else "memory": the operation does not run, as a fault would stop it).
//
// Reports (Emulator.h) go to stderr at once; pending ones make the process
// exit with status 66. IOS_EMU_TRACE=FILE writes, at exit, one JSON line per
// host API call, with the host times it began and ended (see writeTrace in
// Device.cpp and python/ios/bench/emulator.py).
//
//===----------------------------------------------------------------------===//

#ifndef IOS_TEST_LIB_DEVICEEMULATOR_DEVICE_H
#define IOS_TEST_LIB_DEVICEEMULATOR_DEVICE_H

#include "Emulator.h"

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace ios::emu {

using Clock = uint64_t;

struct VectorClock {
  std::vector<Clock> c;
  Clock at(size_t actor) const { return actor < c.size() ? c[actor] : 0; }
  Clock tick(size_t actor);
  void join(const VectorClock &other);
};

enum : int { kHostActor = 0, kLegacyActor = 1 };

struct Capture;

struct Stream {
  int actor = -1;
  int number = 0; // 0 = the legacy stream, then creation order
  bool nonBlocking = false;
  bool destroyed = false;
  VectorClock vc;
  Capture *capture = nullptr; // being captured into a graph
  std::string label;          // a graph's stream: what it replays
  std::string name() const;
};

struct Event {
  VectorClock vc;
  bool recorded = false;
  bool destroyed = false;
  Capture *capture = nullptr; // recorded inside this capture
  int slot = -1;              // ... as its record node's slot
  bool timing = true; // not cudaEventDisableTiming
  int64_t time = 0;   // when the record was processed (Device::now())
  int number = 0;
};

struct Allocation {
  uintptr_t base = 0;
  size_t size = 0;
  int id = 0;
  const char *how = ""; // "cudaMalloc", "cudaMallocAsync", "cudaMallocHost"
  bool pinnedHost = false;
  uint64_t call = 0;
  uint64_t freedBy = 0;
};

/// When an access happened: on which actor, at which of its clock values,
/// by which call.
struct Epoch {
  int actor = -1;
  Clock clock = 0;
  uint64_t call = 0;
  bool allocation = false; // cudaMallocAsync: ordered, but no data yet
  bool valid() const { return actor >= 0; }
};

struct Access {
  uintptr_t begin = 0, end = 0;
  bool write = false;
  std::string role; // "x", "workspace", "operand 3", ...
};

/// One device operation while it is enqueued: its ranges, then its
/// ordering.
struct Op {
  uint64_t call = 0;
  Stream *stream = nullptr;
  Epoch epoch;
  VectorClock vc; // what it is ordered after
  std::vector<Access> accesses;
  double flops = 0;
  bool allocation = false; // cudaMallocAsync: its writes carry no data

  void read(const void *p, size_t bytes, std::string role);
  void write(const void *p, size_t bytes, std::string role);
  /// `count` blocks of `bytes` bytes, `stride` bytes apart.
  void strided(const void *p, int64_t count, int64_t bytes, int64_t stride,
               bool write, const std::string &role);
  size_t bytes() const;
};

/// A CUDA graph made by stream capture: the captured operations in capture
/// order, each on one of the captured streams (numbered 0, the origin, 1,
/// ... in the order they joined), and the record/wait edges between them
/// (a record fills a slot, a wait joins it).
struct Graph {
  struct Node {
    enum Kind { Work, Record, Wait } kind = Work;
    int stream = 0;
    int slot = -1;
    uint64_t call = 0; // the call that was captured
    std::vector<Access> accesses;
    double flops = 0;
    std::function<void()> work; // owns copies of its arguments
  };
  std::vector<Node> nodes;
  int streams = 1, slots = 0;
  int number = 0;
  bool destroyed = false;
};

/// A capture in progress on `origin` and the streams that joined it.
struct Capture {
  std::shared_ptr<Graph> graph;
  Stream *origin = nullptr;
  std::vector<Stream *> streams;    // by local number
  std::vector<VectorClock> clocks;  // per local stream, over local numbers
  std::vector<VectorClock> slotClocks;
  std::string invalid; // why the capture was invalidated ("" if it is not)
};

/// An instantiated graph: it replays on streams of its own (one per
/// captured stream), ordered after the launching stream's earlier work and
/// before its later work.
struct GraphExec {
  std::shared_ptr<Graph> graph;
  std::vector<Stream *> streams;
  bool destroyed = false;
};

/// Holds the device's lock (every API entry point does).
struct DeviceLock {
  DeviceLock();
  std::unique_lock<std::recursive_mutex> lock;
};

/// The host API call in progress: the device locked, the call numbered,
/// named, and traced when it ends.
class Call : private DeviceLock {
public:
  explicit Call(const char *name, std::string detail = {});
  ~Call();
  Call(const Call &) = delete;
  Call &operator=(const Call &) = delete;
  uint64_t seq() const { return seq_; }
  void setStream(const Stream *s);
  void setOp(const Op &op) {
    bytes_ = op.bytes();
    flops_ = op.flops;
  }
  void setStatus(int status) { status_ = status; }

private:
  uint64_t seq_;
  int stream_ = -1;
  size_t bytes_ = 0;
  double flops_ = 0;
  int status_ = 0;
};

class Device {
public:
  /// The process's device (created on first use, never destroyed: programs
  /// may call the API from static destructors).
  static Device &get();
  std::recursive_mutex mutex; // every API entry point holds it

  /// A fault (an operation touching memory that is not device memory)
  /// poisons the context, as on a GPU: synchronizing calls return it.
  cudaError_t sticky = cudaSuccess;
  /// The last error of a runtime call (cudaGetLastError).
  cudaError_t lastError = cudaSuccess;
  cudaError_t fail(cudaError_t e) {
    if (e != cudaSuccess)
      lastError = e;
    return e;
  }

  // Reports.
  void report(const char *kind, const std::string &message);
  std::vector<Report> take();
  size_t pending() const { return reports.size(); }

  // Calls.
  uint64_t beginCall(const char *name, std::string detail);
  void endCall(uint64_t seq, int stream, size_t bytes, double flops,
               int status);
  /// Writes the calls that ended since the last time to the trace
  /// (IOS_EMU_TRACE), one JSON line each.
  void writeTrace();
  /// The emulator's clock: host nanoseconds since the device was created.
  /// Work runs eagerly when it is enqueued, so this is also when it ran.
  int64_t now() const;
  std::string describeCall(uint64_t seq) const;
  void setCallStream(uint64_t seq, int stream) { calls[seq - 1].stream = stream; }
  std::map<std::string, uint64_t> callCounts;
  std::vector<std::string> ranges; // open NVTX ranges (the runtime's ops)
  /// An NVTX mark (the runtime's stage boundaries): the trace places it
  /// between the calls begun before and after it.
  void mark(std::string name) { marks.emplace_back(calls.size(), name); }

  // Streams and events. A null result was reported (bad handle).
  Stream *legacy() { return &legacyStream; }
  Stream *stream(cudaStream_t s, const char *api);
  Stream *createStream(bool nonBlocking);
  bool destroyStream(cudaStream_t s);
  Event *event(cudaEvent_t e, const char *api);
  Event *createEvent();
  bool destroyEvent(cudaEvent_t e);
  std::vector<Stream *> allStreams();

  // Ordering.
  /// Assigns `op` its epoch on `s` (the implicit orderings, then a tick).
  void enqueue(Op &op, Stream *s, uint64_t call);
  /// The host has seen everything `vc` covers.
  void hostJoin(const VectorClock &vc) { host.join(vc); }
  VectorClock &hostClock() { return host; }
  /// Bounds, then races and shadow update; false (reported) if an address
  /// is not device memory: the operation must not run.
  bool execute(Op &op);
  /// Enqueues `op` on `s`, checks it and runs `work`; false (nothing run)
  /// if its memory check failed. On a stream being captured, `op` and
  /// `work` (which must own what it uses) become a node of the graph
  /// instead, checked and run when the graph is launched.
  bool submit(Op &op, Stream *s, uint64_t call, std::function<void()> work);

  // Stream capture and graphs.
  /// Starts capturing `s`; "" or why not.
  std::string beginCapture(Stream *s);
  /// Ends the capture `s` began: its graph, or null and why.
  std::shared_ptr<Graph> endCapture(Stream *s, std::string &why);
  /// Invalidates every capture in progress (an operation they prohibit).
  void invalidateCaptures(const std::string &why);
  bool capturing() const { return !captures.empty(); }
  /// cudaEventRecord / cudaStreamWaitEvent on a stream being captured, or
  /// of an event recorded in a capture; "" or why not.
  void captureRecord(Event *e, Stream *s, uint64_t call);
  std::string captureWait(Stream *s, Event *e, uint64_t call);
  Graph *graphOf(cudaGraph_t g);
  cudaGraph_t keepGraph(std::shared_ptr<Graph> g);
  GraphExec *instantiate(Graph *g);
  GraphExec *execOf(cudaGraphExec_t e);
  /// Replays `exec` after the work on `s`; false if a node touched memory
  /// that is not device memory (it did not run).
  bool launchGraph(GraphExec *exec, Stream *s, uint64_t call, Op &summary);
  /// A host-side access (cudaFree): ordered after what the host has seen.
  bool executeOnHost(Op &op, uint64_t call);

  // Memory.
  void *allocate(size_t bytes, const char *how, bool pinnedHost,
                 uint64_t call);
  /// The allocation starting at `p`, or null.
  Allocation *allocationAt(const void *p);
  /// The allocation containing [p, p + bytes), or null.
  const Allocation *allocationFor(const void *p, size_t bytes) const;
  bool isDevice(const void *p) const;
  bool isPinnedHost(const void *p) const;
  /// Frees `a` (by call `call`).
  void release(Allocation *a, uint64_t call);
  std::string describeAddress(uintptr_t p) const;

private:
  Device();
  struct Cell {
    uintptr_t end;
    Epoch write;
    std::vector<Epoch> reads;
  };
  void split(uintptr_t at);
  void checkAndRecord(const Op &op, const Access &a);
  bool happensBefore(const Epoch &e, const Op &op) const;
  void race(const Op &op, const Access &a, const Epoch &other,
            bool otherWrote, uintptr_t at);

  Graph::Node &addNode(Stream *s, Graph::Node::Kind kind, uint64_t call);

  VectorClock host;
  Stream legacyStream;
  std::vector<std::unique_ptr<Capture>> captures; // in progress
  std::vector<std::shared_ptr<Graph>> graphs;
  std::vector<std::unique_ptr<GraphExec>> execs;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<Event>> events;
  std::map<uintptr_t, Allocation> allocations; // by base
  std::map<uintptr_t, Allocation> freed;       // by base, for messages
  std::map<uintptr_t, Cell> shadow;            // by range begin
  int nextActor = kLegacyActor + 1;
  int nextAllocation = 1;

  struct CallInfo {
    std::string name, op;
    int stream = -1;
    int64_t begin = 0, end = -1; // now() when the call began and ended
    int depth = 0; // calls in progress when it began (nested calls)
    size_t bytes = 0;
    double flops = 0;
    int status = 0;
  };
  std::vector<CallInfo> calls; // by seq - 1
  int depth = 0;                // calls in progress
  int64_t epoch = 0;            // steady_clock at creation, nanoseconds
  std::set<uint64_t> reportedReads; // calls reported for uninitialized reads
  std::set<std::string> reportedPairs;
  std::vector<Report> reports;
  size_t printed = 0;
  bool halt = false;
  FILE *trace = nullptr;
  size_t traced = 0;        // calls written to the trace
  /// Marks, each with the number of calls begun before it.
  std::vector<std::pair<size_t, std::string>> marks;
  size_t marksTraced = 0;   // marks written to the trace
  bool traceWritten = false; // at exit: later calls are written at once
};

/// How many devices cudaGetDeviceCount reports: 1, or IOS_EMU_DEVICES (0
/// emulates a machine without a GPU).
int deviceCount();

/// Pulls the NVTX tool (Nvtx.cpp) into static links.
void linkNvtxTool();

/// The device pointer check every operation's ranges get in execute(), as
/// a message ("" if [p, p + bytes) is inside one allocation).
std::string checkDeviceRange(const Device &d, const void *p, size_t bytes,
                             const std::string &role);

} // namespace ios::emu

#endif // IOS_TEST_LIB_DEVICEEMULATOR_DEVICE_H
