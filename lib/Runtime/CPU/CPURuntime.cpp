//===- CPURuntime.cpp - The IOS runtime's CPU backend ---------------------===//
//
// Load: every load call is checked and, for kernels, planned (Primitives.h)
// and bound to its views and weights on the host; the first failure is kept
// (sticky) and makes every later load call a no-op. A kernel is then a list
// of oneDNN executions ready to run: launch() enqueues a pointer to it.
//
// Run: one worker thread per stream runs that stream's items (kernels,
// event records and waits, stage markers) in FIFO order from a ring buffer
// that only grows (at the first inferences), so enqueueing allocates
// nothing. Events are generation counters: record() takes the event's next
// generation on the host and completes it when the recording stream reaches
// that point; wait() makes a stream block until the generation that was
// current when the host called it (the latest record issued before it) has
// completed, like cudaStreamWaitEvent. Hand-offs between threads go through
// mutexes and condition variables only where the program orders work:
//
//  * host -> worker: enqueueing (the stream's queue mutex);
//  * worker -> worker: an event's record and wait (the event's mutex);
//  * worker -> host: upload/finishRun draining a stream (the stream's idle
//    mutex, which a worker touches only once its queue ran dry).
//
// Host-side event counters are the host's alone, so no other lock links two
// workers: a program that forgets a join leaves the producer's writes and
// the consumer's reads unordered, and ThreadSanitizer reports the race.
//
// The cores are shared between the streams (Cores.h): a worker reports when
// it can run and when it blocks in a wait (an event's record credits the
// streams it wakes), and each kernel runs with its share of the free cores.
// A worker whose queue runs dry stops counting as runnable, except right
// after a wait: a stream that just passed a stage's fork gets its kernels a
// moment later (the host enqueues group by group), and the groups enqueued
// first must already leave it its share.
//
// oneDNN's own code is not instrumented, so sanitized builds tell the
// sanitizer what each kernel reads and writes (annotate()) on the worker
// that runs it; under ThreadSanitizer kernels run on that worker alone (one
// thread each): libgomp's barriers are invisible to it, and an access made
// by an OpenMP thread would look unordered with everything.
//
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include "../Checks.h"
#include "../Safetensors.h"
#include "Cores.h"
#include "Primitives.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#define IOS_TSAN 1
#elif defined(__SANITIZE_ADDRESS__)
#define IOS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IOS_TSAN 1
#elif __has_feature(address_sanitizer)
#define IOS_ASAN 1
#endif
#endif

// The sanitizers' range checks (GCC declares them as built-ins).
#if defined(__clang__) && defined(IOS_TSAN)
extern "C" void __tsan_read_range(void *addr, unsigned long size);
extern "C" void __tsan_write_range(void *addr, unsigned long size);
#elif defined(__clang__) && defined(IOS_ASAN)
extern "C" void __asan_loadN(void *addr, unsigned long size);
extern "C" void __asan_storeN(void *addr, unsigned long size);
#endif

namespace ios::rt {

namespace {

using Clock = std::chrono::steady_clock;
using Weight = std::shared_ptr<const std::vector<float>>;

/// What a kernel reads or writes: `n` runs of `image` floats, `stride` apart.
struct Access {
  const float *data;
  int64_t n, image, stride;
  bool write;
  static Access of(View v, bool write) {
    return {v.data, v.n, v.c * v.h * v.w, v.batchStride, write};
  }
  static Access flat(const Weight &w) {
    int64_t size = w ? int64_t(w->size()) : 0;
    return {w ? w->data() : nullptr, 1, size, size, false};
  }
};

/// Tells a sanitizer about the accesses oneDNN's (uninstrumented) code makes.
void annotate(const std::vector<Access> &accesses) {
#if defined(IOS_TSAN) || defined(IOS_ASAN)
  for (const Access &a : accesses) {
    if (!a.data)
      continue;
    for (int64_t n = 0; n < a.n; ++n) {
      void *p = const_cast<float *>(a.data + n * a.stride);
      size_t bytes = size_t(a.image) * sizeof(float);
#if defined(IOS_TSAN)
      a.write ? __tsan_write_range(p, bytes) : __tsan_read_range(p, bytes);
#else
      a.write ? __asan_storeN(p, bytes) : __asan_loadN(p, bytes);
#endif
    }
  }
#else
  (void)accesses;
#endif
}

/// A prepared kernel: everything a launch needs, resolved at load.
struct Kernel {
  int32_t id, stream;
  std::string layer, label; // label: "LAYER: KIND", for run-time errors
  int maxThreads = 1;
  cpu::Variants variants; // one per thread count
  std::vector<Access> accesses;
  std::vector<Weight> weights; // what the variants point into
};

struct Event;

/// One entry of a stream's queue.
struct Item {
  enum Kind : uint8_t { Launch, Record, Wait, Stage } kind;
  bool timed; // profiling was on when the host enqueued it
  int32_t index; // stage index
  const Kernel *kernel;
  Event *event;
  uint64_t generation;
};

/// A timestamp a worker took for the profile.
struct Timing {
  int32_t kernel; // -1: a stage marker
  int32_t stage;
  Clock::time_point start, end;
};

struct Event {
  uint64_t issued = 0; // host only: generations handed out by record()

  // Worker side: which generations have completed. Generation g is complete
  // if g <= contiguous or g is in `above` (records on different streams may
  // complete out of order).
  std::mutex m;
  std::condition_variable cv;
  uint64_t contiguous = 0;
  std::set<uint64_t> above;
  // Streams blocked in a wait for this event: the recording stream counts
  // them as runnable again before it goes on, so its next kernel already
  // shares the cores with them.
  struct Sleeper {
    uint64_t generation;
    bool credited;
  };
  std::vector<Sleeper *> sleepers;

  bool completed(uint64_t g) const {
    return g <= contiguous || above.count(g);
  }
  void complete(uint64_t g, cpu::Cores &cores) {
    above.insert(g);
    while (!above.empty() && *above.begin() == contiguous + 1) {
      ++contiguous;
      above.erase(above.begin());
    }
    for (Sleeper *s : sleepers)
      if (!s->credited && completed(s->generation)) {
        s->credited = true;
        cores.runnable();
      }
  }
};

/// A worker's own state.
struct Worker {
  Worker() : stream(cpu::engine()) {}
  dnnl::stream stream;
  /// Set by an event wait: the stream just passed a fork and stays
  /// runnable even if its queue is empty for a moment (the host is still
  /// enqueueing the stage's kernels, the other groups' first).
  bool afterWait = false;
};

class Stream {
public:
  Stream(Context &ctx, cpu::Cores &cores)
      : ctx(ctx), cores(cores), ring(256), worker([this] { loop(); }) {}
  ~Stream() {
    {
      std::lock_guard<std::mutex> lock(m);
      stopping = true;
    }
    cv.notify_one();
    worker.join(); // runs what is still queued first
    std::free(scratch);
  }

  void enqueue(const Item &item) {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(m);
      if (count == ring.size()) { // full: grow (the first inferences only)
        std::vector<Item> bigger(ring.size() * 2);
        for (size_t i = 0; i < count; ++i)
          bigger[i] = ring[(head + i) % ring.size()];
        ring.swap(bigger);
        head = 0;
      }
      ring[(head + count) % ring.size()] = item;
      ++count;
      wake = sleeping;
    }
    ++submitted;
    if (wake)
      cv.notify_one();
  }

  /// Blocks the host until everything enqueued so far has run.
  void drain() {
    std::unique_lock<std::mutex> lock(idleMutex);
    idleCv.wait(lock, [&] { return finished >= submitted; });
  }

  /// Makes the stream's scratch memory at least `kernel`'s (at load) and
  /// points its memory there; a bigger buffer re-points every kernel of the
  /// stream.
  void reserveScratch(Kernel &kernel) {
    size_t need = 0;
    for (const cpu::Bound &b : kernel.variants)
      need = std::max(need, b.scratchBytes());
    if (need > scratchSize) {
      drain(); // no kernel of this stream is using the old buffer
      size_t rounded = (need + 4095) / 4096 * 4096;
      char *bigger = static_cast<char *>(std::aligned_alloc(64, rounded));
      if (!bigger)
        throw dnnl::error(dnnl_out_of_memory,
                          "cannot allocate scratch memory");
      std::free(scratch);
      scratch = bigger;
      scratchSize = rounded;
      for (const Kernel *k : kernels)
        for (const cpu::Bound &b : k->variants)
          b.bindScratch(scratch);
    }
    for (const cpu::Bound &b : kernel.variants)
      b.bindScratch(scratch);
    kernels.push_back(&kernel);
  }

  /// The worker's timings of the last inference (read after drain()).
  std::vector<Timing> timings;

private:
  void loop();

  Context &ctx;
  cpu::Cores &cores;
  std::mutex m;
  std::condition_variable cv;
  std::vector<Item> ring;
  size_t head = 0, count = 0;
  bool sleeping = false, stopping = false;

  uint64_t submitted = 0; // host only
  std::mutex idleMutex;
  std::condition_variable idleCv;
  uint64_t finished = 0; // guarded by idleMutex

  // Host only (load): the stream's scratch and the kernels pointing there.
  char *scratch = nullptr;
  size_t scratchSize = 0;
  std::vector<const Kernel *> kernels;

  std::thread worker; // last: starts after the members above exist
};

float *allocateArena(int64_t floats) {
  size_t bytes = size_t(std::max<int64_t>(floats, 1)) * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, bytes);
  if (p)
    std::memset(p, 0, bytes);
  return static_cast<float *>(p);
}

std::string geometry(View v) {
  int64_t image = v.c * v.h * v.w;
  return std::to_string(v.n) + "x" + std::to_string(v.c) + "x" +
         std::to_string(v.h) + "x" + std::to_string(v.w) + "/" +
         std::to_string(v.n == 1 ? image : v.batchStride);
}

template <typename... Ts> std::string key(const char *kind, Ts... parts) {
  std::string k = kind;
  ((k += ":" + std::string(parts)), ...);
  return k;
}
std::string str(int64_t v) { return std::to_string(v); }

cpu::Cores makeCores() {
#if defined(IOS_TSAN)
  return cpu::Cores(1, false); // one thread per kernel: see the file comment
#else
  bool share = true;
  int cores = cpu::Cores::fromEnvironment(share);
  const char *small = std::getenv("IOS_CPU_SMALL_OPS");
  return cpu::Cores(cores, share,
                    small && std::string_view(small) == "all");
#endif
}

/// The message of the last finishCreate() that failed on this thread.
thread_local std::string createError;

} // namespace

class Context {
public:
  Context() : cores(makeCores()) {}
  ~Context() {
    streams.clear(); // joins the workers before the arena goes
    std::free(arena);
  }

  bool ok() const { return !loadFailed; }
  /// A failed load call: the first is kept; returns false.
  bool failLoad(const std::string &text) {
    std::lock_guard<std::mutex> lock(errorMutex);
    if (!loadFailed) {
      loadFailed = true;
      message = text;
    }
    return false;
  }
  /// A failed inference (a kernel on a worker, or a bad run call): the
  /// first since upload() is kept and makes finishRun() return 0.
  void failRun(const std::string &text) {
    std::lock_guard<std::mutex> lock(errorMutex);
    if (!runFailed) {
      runFailed = true;
      if (!loadFailed) // the load's error stays the message
        message = text;
    }
  }

  bool validStream(int32_t s) const {
    return s >= 0 && size_t(s) < streams.size();
  }
  bool validEvent(int32_t e) const {
    return e >= 0 && size_t(e) < events.size();
  }

  /// The whole check of every view a kernel touches: inside the arena.
  std::string inArena(std::initializer_list<std::pair<const char *, View>> vs) {
    for (auto &[role, v] : vs)
      if (std::string e = detail::checkInArena(role, v, arena, size);
          !e.empty())
        return e;
    return {};
  }

  /// Weight `name` of `elements` floats, or null with `check` set (if it
  /// was empty).
  Weight weight(const char *name, int64_t elements, std::string &check) {
    if (!check.empty())
      return nullptr;
    auto it = weights.find(name ? name : "");
    const std::vector<float> *values =
        it == weights.end() ? nullptr : it->second.get();
    check = detail::checkWeight(name, values, elements);
    return check.empty() ? it->second : nullptr;
  }

  /// The plan of configuration `k`, made by `make` the first time.
  template <typename P, typename Make>
  std::shared_ptr<const P> plan(const std::string &k, Make make) {
    auto it = plans.find(k);
    if (it != plans.end())
      return std::static_pointer_cast<const P>(it->second);
    std::shared_ptr<const P> p = make();
    plans.emplace(k, p);
    return p;
  }

  dnnl::stream &hostStream() {
    if (!host)
      host = std::make_unique<dnnl::stream>(cpu::engine());
    return *host;
  }

  struct Made {
    int maxThreads;
    cpu::Variants variants;
  };

  /// Adds a kernel: `check` ("" if the arguments are fine), then `make`
  /// plans and binds it (or throws dnnl::error). Returns its id or -1.
  template <typename Make>
  int32_t addKernel(int32_t stream, const char *layer, const char *kind,
                    const std::string &check, std::vector<View> reads,
                    View writes,
                    std::vector<Weight> used, Make make) {
    if (!ok())
      return -1;
    if (!validStream(stream)) {
      failLoad(detail::opError(layer, kind,
                               "no stream " + std::to_string(stream) +
                                   " (the context has " +
                                   std::to_string(streams.size()) + ")"));
      return -1;
    }
    if (!check.empty()) {
      failLoad(detail::opError(layer, kind, check));
      return -1;
    }
    auto k = std::make_unique<Kernel>();
    k->id = int32_t(kernels.size());
    k->stream = stream;
    k->layer = layer && *layer ? layer : "<unnamed op>";
    k->label = k->layer + ": " + kind;
    for (View v : reads)
      k->accesses.push_back(Access::of(v, false));
    for (const Weight &w : used)
      k->accesses.push_back(Access::flat(w));
    k->accesses.push_back(Access::of(writes, true));
    k->weights = std::move(used);
    try {
      Made m = make();
      k->maxThreads = m.maxThreads;
      k->variants = std::move(m.variants);
      streams[size_t(stream)]->reserveScratch(*k);
    } catch (const dnnl::error &e) {
      failLoad(detail::opError(layer, kind,
                               std::string("oneDNN: ") + e.what()));
      return -1;
    }
    kernels.push_back(std::move(k));
    return kernels.back()->id;
  }

  /// Runs one item of a stream's queue, on its worker.
  void execute(const Item &item, Worker &w, std::vector<Timing> &timings) {
    switch (item.kind) {
    case Item::Launch: {
      const Kernel &k = *item.kernel;
      annotate(k.accesses);
      int variant = cores.acquire(k.maxThreads);
      cpu::setThreads(cores.counts()[size_t(variant)]);
      Clock::time_point start;
      if (item.timed)
        start = Clock::now();
      try {
        k.variants[size_t(variant)].run(w.stream);
      } catch (const dnnl::error &e) {
        failRun(k.label + ": oneDNN: " + e.what());
      }
      cores.release(variant);
      if (item.timed)
        timings.push_back({k.id, -1, start, Clock::now()});
      return;
    }
    case Item::Record: {
      Event *e = item.event;
      {
        std::lock_guard<std::mutex> lock(e->m);
        e->complete(item.generation, cores);
      }
      e->cv.notify_all();
      return;
    }
    case Item::Wait: {
      Event *e = item.event;
      w.afterWait = true;
      std::unique_lock<std::mutex> lock(e->m);
      if (e->completed(item.generation))
        return;
      // Blocked: this stream's cores go to the others until the record
      // credits it back.
      Event::Sleeper me{item.generation, false};
      e->sleepers.push_back(&me);
      cores.blocked();
      e->cv.wait(lock, [&] { return e->completed(item.generation); });
      e->sleepers.erase(
          std::find(e->sleepers.begin(), e->sleepers.end(), &me));
      if (!me.credited)
        cores.runnable();
      return;
    }
    case Item::Stage: {
      Clock::time_point now = Clock::now();
      timings.push_back({-1, item.index, now, now});
      return;
    }
    }
  }

  /// Copies between the host and a bound view (each image is contiguous).
  static void copyIn(View v, const float *src) {
    int64_t image = v.c * v.h * v.w;
    for (int64_t n = 0; n < v.n; ++n)
      std::memcpy(v.data + n * v.batchStride, src + n * image,
                  size_t(image) * sizeof(float));
  }
  static void copyOut(View v, float *dst) {
    int64_t image = v.c * v.h * v.w;
    for (int64_t n = 0; n < v.n; ++n)
      std::memcpy(dst + n * image, v.data + n * v.batchStride,
                  size_t(image) * sizeof(float));
  }

  /// The profile of the inference that just finished (streams drained).
  void collectProfile() {
    entries.clear();
    stageNames.clear();
    auto ms = [&](Clock::time_point t) {
      return std::chrono::duration<double, std::milli>(t - started).count();
    };
    Clock::time_point last = started;
    std::vector<Timing> stages;
    for (size_t s = 0; s < streams.size(); ++s)
      for (const Timing &t : streams[s]->timings) {
        last = std::max(last, t.end);
        if (t.kernel < 0) {
          stages.push_back(t);
          continue;
        }
        entries.push_back({kernels[size_t(t.kernel)]->layer.c_str(),
                           int32_t(s), t.kernel, ms(t.start), ms(t.end)});
      }
    for (const Timing &t : stages)
      stageNames.push_back("stage " + std::to_string(t.stage));
    for (size_t i = 0; i < stages.size(); ++i)
      entries.push_back({stageNames[i].c_str(), 0, -1, ms(stages[i].start),
                         ms(i + 1 < stages.size() ? stages[i + 1].start
                                                  : last)});
  }

  float *arena = nullptr;
  int64_t size = 0;
  cpu::Cores cores;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<Event>> events;

  // Load (host only).
  bool loadFailed = false;
  std::map<std::string, std::shared_ptr<std::vector<float>>> weights;
  std::map<std::string, std::shared_ptr<const cpu::Plan>> plans;
  std::unique_ptr<dnnl::stream> host;
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::vector<View> inputs, outputs; // data null: not bound

  // Run.
  std::mutex errorMutex;
  bool runFailed = false;
  std::string message, returned; // guarded by errorMutex
  bool profiling = false;
  Clock::time_point started;
  std::vector<ProfileEntry> entries;
  std::vector<std::string> stageNames;
};

namespace {

void Stream::loop() {
  Worker state; // this thread's oneDNN stream
  uint64_t done = 0;
  bool running = false; // counted as runnable by `cores`
  std::unique_lock<std::mutex> lock(m);
  while (true) {
    while (!stopping && count == 0) {
      sleeping = true;
      cv.wait(lock);
      sleeping = false;
    }
    if (count == 0)
      return; // stopping, and nothing left to run
    Item item = ring[head];
    head = (head + 1) % ring.size();
    --count;
    lock.unlock();
    if (!running) {
      cores.runnable();
      running = true;
    }
    state.afterWait = false;
    ctx.execute(item, state, timings);
    ++done;
    lock.lock();
    if (count == 0) {
      if (!state.afterWait) {
        cores.blocked();
        running = false;
      }
      // Ran dry: publish the count for drain(). Only here, so the host's
      // waiting never orders it before work still in this queue.
      lock.unlock();
      {
        std::lock_guard<std::mutex> idle(idleMutex);
        finished = done;
      }
      idleCv.notify_all();
      lock.lock();
    }
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Load
//===----------------------------------------------------------------------===//

Context *createContext(int32_t numStreams, int32_t numEvents,
                       int64_t arenaFloats) {
  auto *ctx = new Context();
  if (numStreams < 1 || numEvents < 0 || arenaFloats < 0) {
    ctx->failLoad("createContext: needs at least one stream and "
                  "non-negative event and arena sizes (got " +
                  std::to_string(numStreams) + ", " +
                  std::to_string(numEvents) + ", " +
                  std::to_string(arenaFloats) + ")");
    return ctx;
  }
  ctx->arena = allocateArena(arenaFloats);
  if (!ctx->arena) {
    ctx->failLoad("createContext: cannot allocate an arena of " +
                  std::to_string(arenaFloats) + " floats");
    return ctx;
  }
  ctx->size = arenaFloats;
  for (int32_t i = 0; i < numEvents; ++i)
    ctx->events.push_back(std::make_unique<Event>());
  for (int32_t i = 0; i < numStreams; ++i)
    ctx->streams.push_back(std::make_unique<Stream>(*ctx, ctx->cores));
  return ctx;
}

void destroyContext(Context *ctx) { delete ctx; }

bool ok(Context *ctx) { return ctx && ctx->ok(); }

const char *lastError(Context *ctx) {
  if (!ctx)
    return createError.c_str();
  std::lock_guard<std::mutex> lock(ctx->errorMutex);
  ctx->returned = ctx->message;
  return ctx->returned.c_str();
}

static void addTensors(Context *ctx,
                       std::map<std::string, detail::HostTensor> &tensors) {
  for (auto &[name, t] : tensors)
    ctx->weights[name] =
        std::make_shared<std::vector<float>>(std::move(t.data));
}

bool loadWeights(Context *ctx, const char *path) {
  if (!ctx->ok())
    return false;
  std::map<std::string, detail::HostTensor> tensors;
  std::string error;
  if (!path)
    return ctx->failLoad("loadWeights: no path");
  if (!detail::readSafetensors(path, tensors, error))
    return ctx->failLoad("loadWeights: " + error);
  addTensors(ctx, tensors);
  return true;
}

bool loadWeightsFromMemory(Context *ctx, const void *data, size_t size) {
  if (!ctx->ok())
    return false;
  std::map<std::string, detail::HostTensor> tensors;
  std::string error;
  if (!detail::readSafetensors(data, size, tensors, error))
    return ctx->failLoad("loadWeightsFromMemory: " + error);
  addTensors(ctx, tensors);
  return true;
}

bool addWeight(Context *ctx, const char *name, const float *data,
               int64_t count) {
  if (!ctx->ok())
    return false;
  if (!detail::named(name) || count < 0 || (count && !data))
    return ctx->failLoad(std::string("addWeight '") + (name ? name : "") +
                         "': needs a name and " + std::to_string(count) +
                         " values");
  ctx->weights[name] =
      std::make_shared<std::vector<float>>(data, data + count);
  return true;
}

/// The packed tensor `name` of `size` floats, created zero-filled; a copy
/// if a kernel already uses it (kernels keep the values they were prepared
/// with).
static std::vector<float> *packTarget(Context *ctx, const std::string &what,
                                      const char *name, int64_t size) {
  auto [it, inserted] = ctx->weights.try_emplace(name);
  if (inserted)
    it->second = std::make_shared<std::vector<float>>(size_t(size), 0.0f);
  if (int64_t(it->second->size()) != size) {
    ctx->failLoad(what + ": '" + name + "' exists with " +
                  std::to_string(it->second->size()) + " values, expected " +
                  std::to_string(size));
    return nullptr;
  }
  if (it->second.use_count() > 1)
    it->second = std::make_shared<std::vector<float>>(*it->second);
  return it->second.get();
}

bool packConvWeight(Context *ctx, const char *name, int64_t totalOut,
                    int64_t inChannels, int64_t kh, int64_t kw,
                    const char *source, int64_t outOffset, int64_t out,
                    int64_t srcKh, int64_t srcKw, int64_t top, int64_t left) {
  if (!ctx->ok())
    return false;
  std::string what = std::string("packConvWeight '") + (name ? name : "") +
                     "' <- '" + (source ? source : "") + "'";
  std::string check = detail::checkPackConv(totalOut, inChannels, kh, kw,
                                            outOffset, out, srcKh, srcKw, top,
                                            left);
  if (check.empty() && !detail::named(name))
    check = "no name";
  Weight src = ctx->weight(source, out * inChannels * srcKh * srcKw, check);
  if (!src)
    return ctx->failLoad(what + ": " + check);
  std::vector<float> *dst =
      packTarget(ctx, what, name, totalOut * inChannels * kh * kw);
  if (!dst)
    return false;
  detail::packConvInto(dst->data(), src->data(), inChannels, kh, kw,
                       outOffset, out, srcKh, srcKw, top, left);
  return true;
}

bool packBias(Context *ctx, const char *name, int64_t total,
              const char *source, int64_t offset, int64_t size) {
  if (!ctx->ok())
    return false;
  std::string what = std::string("packBias '") + (name ? name : "") +
                     "' <- '" + (source ? source : "") + "'";
  std::string check = detail::checkPackBias(total, offset, size);
  if (check.empty() && !detail::named(name))
    check = "no name";
  Weight src = ctx->weight(source, size, check);
  if (!src)
    return ctx->failLoad(what + ": " + check);
  std::vector<float> *dst = packTarget(ctx, what, name, total);
  if (!dst)
    return false;
  std::copy(src->begin(), src->end(), dst->begin() + offset);
  return true;
}

View view(Context *ctx, int64_t offset, int64_t n, int64_t c, int64_t h,
          int64_t w, int64_t batchStride) {
  View v{nullptr, n, c, h, w, batchStride};
  if (!ctx->ok())
    return v;
  if (std::string e = detail::checkArenaView(offset, n, c, h, w, batchStride,
                                             ctx->size);
      !e.empty()) {
    ctx->failLoad(e);
    return v;
  }
  v.data = ctx->arena + offset;
  return v;
}

static bool bind(Context *ctx, const char *what, std::vector<View> &bound,
                 int32_t index, View v) {
  if (!ctx->ok())
    return false;
  std::string e = index < 0 ? "negative index" : detail::checkView("the view", v);
  if (e.empty())
    e = ctx->inArena({{"the view", v}});
  if (!e.empty())
    return ctx->failLoad(std::string(what) + " " + std::to_string(index) +
                         ": " + e);
  if (bound.size() <= size_t(index))
    bound.resize(size_t(index) + 1, View{nullptr, 0, 0, 0, 0, 0});
  bound[size_t(index)] = v;
  return true;
}

bool bindInput(Context *ctx, int32_t index, View v) {
  return bind(ctx, "bindInput", ctx->inputs, index, v);
}

bool bindOutput(Context *ctx, int32_t index, View v) {
  return bind(ctx, "bindOutput", ctx->outputs, index, v);
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

using Made = Context::Made;

int32_t prepareConv2d(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, const char *weight, const char *bias,
                      int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                      int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                      int64_t groups, Act act) {
  if (!ctx->ok())
    return -1;
  detail::ConvShape s{kh, kw, sh, sw, ph, pw, dh, dw, groups};
  std::string check = detail::checkConv(in, out, s);
  if (check.empty())
    check = detail::checkAct(act);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  Weight w = ctx->weight(weight, detail::convWeightElements(in, out, s), check);
  Weight b = detail::named(bias) ? ctx->weight(bias, out.c, check) : nullptr;
  return ctx->addKernel(
      stream, layer, "conv2d", check, {in}, out, {w, b}, [&] {
        auto plan = ctx->plan<cpu::ConvPlan>(
            key("conv", geometry(in), geometry(out), str(kh), str(kw),
                str(sh), str(sw), str(ph), str(pw), str(dh), str(dw),
                str(groups), str(act), str(b != nullptr)),
            [&] {
              return std::make_shared<cpu::ConvPlan>(in, out, s, act,
                                                     b != nullptr,
                                                     ctx->cores.counts());
            });
        return Made{plan->maxThreads(),
                    plan->bind(in, out, w->data(), b ? b->data() : nullptr,
                               ctx->hostStream())};
      });
}

int32_t preparePool2d(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, PoolKind kind, int64_t kh,
                      int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                      int64_t pw, bool countIncludePad) {
  if (!ctx->ok())
    return -1;
  std::string check =
      detail::checkPool(in, out, kind, kh, kw, sh, sw, ph, pw);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  return ctx->addKernel(
      stream, layer, "pool2d", check, {in}, out, {}, [&] {
        detail::PoolShape p =
            detail::PoolShape::of(in, kind, kh, kw, sh, sw, ph, pw);
        bool include = kind == PoolAvg && countIncludePad;
        auto plan = ctx->plan<cpu::PoolPlan>(
            key("pool", geometry(in), geometry(out), str(kind), str(p.kh),
                str(p.kw), str(p.sh), str(p.sw), str(p.ph), str(p.pw),
                str(include)),
            [&] {
              return std::make_shared<cpu::PoolPlan>(in, out, kind, p, include,
                                                     ctx->cores.counts());
            });
        return Made{plan->maxThreads(), plan->bind(in, out)};
      });
}

/// prepareActivation and prepareCopy (ActNone).
static int32_t unary(Context *ctx, int32_t stream, const char *layer,
                     const char *kind, View in, View out, Act act) {
  if (!ctx->ok())
    return -1;
  std::string check = detail::checkElementwise(out, 1, &in);
  if (check.empty())
    check = detail::checkAct(act);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  return ctx->addKernel(stream, layer, kind, check, {in}, out, {}, [&] {
    int64_t length = cpu::Elementwise::of(out, 1, &in).length;
    auto plan =
        ctx->plan<cpu::ActivationPlan>(key("unary", str(length), str(act)), [&] {
          return std::make_shared<cpu::ActivationPlan>(length, act,
                                                       ctx->cores.counts());
        });
    return Made{plan->maxThreads(), plan->bind(in, out)};
  });
}

int32_t prepareActivation(Context *ctx, int32_t stream, const char *layer,
                          View in, View out, Act act) {
  return unary(ctx, stream, layer, "activation", in, out, act);
}

int32_t prepareCopy(Context *ctx, int32_t stream, const char *layer, View in,
                    View out) {
  return unary(ctx, stream, layer, "copy", in, out, ActNone);
}

/// out (op)= b for a broadcast (N, C, 1, 1) operand b, appended to `made`.
static void appendBroadcast(Context *ctx, Made &made, View b, View out,
                            dnnl::algorithm alg) {
  auto plan = ctx->plan<cpu::BinaryPlan>(
      key("binary", geometry(out), geometry(b), str(int64_t(alg))), [&] {
        return std::make_shared<cpu::BinaryPlan>(out, b, out, alg,
                                                 ctx->cores.counts());
      });
  cpu::Variants more = plan->bind(out, b, out);
  for (size_t k = 0; k < made.variants.size(); ++k)
    made.variants[k].append(std::move(more[k]));
  made.maxThreads = std::max(made.maxThreads, plan->maxThreads());
}

int32_t prepareAdd(Context *ctx, int32_t stream, const char *layer, View out,
                   int32_t count, const View *in) {
  if (!ctx->ok())
    return -1;
  std::string check = detail::checkBroadcast(out, count, in);
  if (check.empty())
    check = ctx->inArena({{"output", out}});
  for (int32_t k = 0; check.empty() && k < count; ++k)
    check = ctx->inArena({{"an operand", in[k]}});
  // Operands of the output's shape are summed (equal ones become one,
  // scaled; one that is the output itself goes first: oneDNN sums in place
  // only into source 0, as it writes the output before it reads sources
  // 1..), then broadcast ones are added to the output one by one.
  std::vector<View> srcs, broadcast;
  std::vector<float> scales;
  for (int32_t k = 0; check.empty() && k < count; ++k) {
    if (detail::broadcastsTo(in[k], out) && (out.h != 1 || out.w != 1)) {
      broadcast.push_back(in[k]);
      continue;
    }
    auto same = std::find_if(srcs.begin(), srcs.end(), [&](View v) {
      return detail::sameElements(v, in[k]);
    });
    if (same != srcs.end()) {
      scales[size_t(same - srcs.begin())] += 1.0f;
      continue;
    }
    srcs.push_back(in[k]);
    scales.push_back(1.0f);
  }
  for (size_t k = 1; k < srcs.size(); ++k)
    if (detail::sameElements(srcs[k], out)) {
      std::swap(srcs[0], srcs[k]);
      std::swap(scales[0], scales[k]);
    }
  std::vector<View> reads(in, in + (check.empty() ? count : 0));
  return ctx->addKernel(stream, layer, "add", check, reads, out, {}, [&] {
    size_t variants = ctx->cores.counts().size();
    if (srcs.empty())
      return Made{1, cpu::broadcastOnly(out, broadcast, false, variants)};
    Made made{1, cpu::Variants(variants)};
    // out = out + nothing else: no sum at all.
    if (!(srcs.size() == 1 && scales[0] == 1.0f &&
          detail::sameElements(srcs[0], out))) {
      int64_t length =
          cpu::Elementwise::of(out, int32_t(srcs.size()), srcs.data()).length;
      std::string k = key("sum", str(length));
      for (float s : scales)
        k += ":" + str(int64_t(s));
      auto plan = ctx->plan<cpu::SumPlan>(k, [&] {
        return std::make_shared<cpu::SumPlan>(length, scales,
                                              ctx->cores.counts());
      });
      made = Made{plan->maxThreads(), plan->bind(out, srcs)};
    }
    for (View b : broadcast)
      appendBroadcast(ctx, made, b, out, dnnl::algorithm::binary_add);
    return made;
  });
}

int32_t prepareMul(Context *ctx, int32_t stream, const char *layer, View a,
                   View b, View out) {
  if (!ctx->ok())
    return -1;
  const View ins[] = {a, b};
  std::string check = detail::checkBroadcast(out, 2, ins);
  if (check.empty())
    check = ctx->inArena({{"lhs", a}, {"rhs", b}, {"output", out}});
  auto full = [&](View v) { return v.h == out.h && v.w == out.w; };
  // oneDNN's binary ops run in place only into source 0, and broadcast only
  // source 1.
  if (!full(a) || detail::sameElements(b, out))
    std::swap(a, b);
  return ctx->addKernel(stream, layer, "mul", check, {a, b}, out, {}, [&] {
    size_t variants = ctx->cores.counts().size();
    if (!full(a))
      return Made{1, cpu::broadcastOnly(out, {a, b}, true, variants)};
    auto plan = ctx->plan<cpu::BinaryPlan>(
        key("binary", geometry(a), geometry(b), geometry(out),
            str(int64_t(dnnl::algorithm::binary_mul))),
        [&] {
          return std::make_shared<cpu::BinaryPlan>(
              a, b, out, dnnl::algorithm::binary_mul, ctx->cores.counts());
        });
    return Made{plan->maxThreads(), plan->bind(a, b, out)};
  });
}

int32_t prepareAffine(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, const char *scale,
                      const char *shift) {
  if (!ctx->ok())
    return -1;
  std::string check = detail::checkElementwise(out, 1, &in);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  Weight s = ctx->weight(scale, in.c, check);
  Weight t = ctx->weight(shift, in.c, check);
  return ctx->addKernel(stream, layer, "affine", check, {in}, out, {s, t}, [&] {
    auto plan = ctx->plan<cpu::AffinePlan>(key("affine", geometry(in)), [&] {
      return std::make_shared<cpu::AffinePlan>(in, ctx->cores.counts());
    });
    return Made{plan->maxThreads(), plan->bind(in, out, s->data(), t->data())};
  });
}

int32_t preparePad(Context *ctx, int32_t stream, const char *layer, View in,
                   View out, int64_t top, int64_t left, int64_t bottom,
                   int64_t right, float value) {
  if (!ctx->ok())
    return -1;
  std::string check = detail::checkPad(in, out, top, left, bottom, right);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  return ctx->addKernel(stream, layer, "pad", check, {in}, out, {}, [&] {
    auto plan = ctx->plan<cpu::PadPlan>(
        key("pad", geometry(in), geometry(out), str(top), str(left)), [&] {
          return std::make_shared<cpu::PadPlan>(in, out, top, left,
                                                ctx->cores.counts());
        });
    return Made{plan->maxThreads(), plan->bind(in, out, value)};
  });
}

int32_t prepareUpsample(Context *ctx, int32_t stream, const char *layer,
                        View in, View out) {
  if (!ctx->ok())
    return -1;
  std::string check = detail::checkUpsample(in, out);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  return ctx->addKernel(stream, layer, "upsample", check, {in}, out, {}, [&] {
    auto plan = ctx->plan<cpu::UpsamplePlan>(
        key("upsample", geometry(in), geometry(out)), [&] {
          return std::make_shared<cpu::UpsamplePlan>(in, out,
                                                     ctx->cores.counts());
        });
    return Made{plan->maxThreads(), plan->bind(in, out)};
  });
}

int32_t prepareChannelShuffle(Context *ctx, int32_t stream, const char *layer,
                              View in, View out, int64_t groups) {
  if (!ctx->ok())
    return -1;
  std::string check = detail::checkChannelShuffle(in, out, groups);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  return ctx->addKernel(
      stream, layer, "channel_shuffle", check, {in}, out, {}, [&] {
        auto plan = ctx->plan<cpu::ShufflePlan>(
            key("shuffle", geometry(in), geometry(out), str(groups)), [&] {
              return std::make_shared<cpu::ShufflePlan>(in, out, groups,
                                                        ctx->cores.counts());
            });
        return Made{plan->maxThreads(), plan->bind(in, out)};
      });
}

int32_t prepareLinear(Context *ctx, int32_t stream, const char *layer,
                      View in, View out, const char *weight,
                      const char *bias) {
  if (!ctx->ok())
    return -1;
  std::string check = detail::checkLinear(in, out);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  int64_t k = in.c * in.h * in.w, m = out.c;
  Weight w = ctx->weight(weight, m * k, check);
  Weight b = detail::named(bias) ? ctx->weight(bias, m, check) : nullptr;
  return ctx->addKernel(stream, layer, "linear", check, {in}, out, {w, b}, [&] {
    auto plan = ctx->plan<cpu::LinearPlan>(
        key("linear", geometry(in), geometry(out), str(b != nullptr)), [&] {
          return std::make_shared<cpu::LinearPlan>(in, out, b != nullptr,
                                                   ctx->cores.counts());
        });
    return Made{plan->maxThreads(),
                plan->bind(in, out, w->data(), b ? b->data() : nullptr)};
  });
}

int32_t prepareSoftmax(Context *ctx, int32_t stream, const char *layer,
                       View in, View out) {
  if (!ctx->ok())
    return -1;
  std::string check = detail::checkSoftmax(in, out);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  return ctx->addKernel(stream, layer, "softmax", check, {in}, out, {}, [&] {
    auto plan = ctx->plan<cpu::SoftmaxPlan>(
        key("softmax", geometry(in), geometry(out)), [&] {
          return std::make_shared<cpu::SoftmaxPlan>(in, out,
                                                    ctx->cores.counts());
        });
    return Made{plan->maxThreads(), plan->bind(in, out)};
  });
}

void *finishCreate(Context *ctx) {
  if (!ctx) {
    createError = "finishCreate: no context";
    return nullptr;
  }
  if (!ctx->ok()) {
    createError = lastError(ctx);
    destroyContext(ctx);
    return nullptr;
  }
  return ctx;
}

//===----------------------------------------------------------------------===//
// Run
//===----------------------------------------------------------------------===//

void upload(Context *ctx, const float *const *inputs) {
  for (auto &s : ctx->streams)
    s->drain(); // normally idle already: finishRun drained them
  {
    std::lock_guard<std::mutex> lock(ctx->errorMutex);
    // A context whose load failed runs nothing: its inferences fail.
    ctx->runFailed = ctx->loadFailed;
    if (!ctx->loadFailed)
      ctx->message.clear();
  }
  ctx->entries.clear();
  if (ctx->profiling) {
    for (auto &s : ctx->streams)
      s->timings.clear();
    ctx->started = Clock::now();
  }
  for (size_t i = 0; i < ctx->inputs.size(); ++i) {
    View v = ctx->inputs[i];
    if (!v.data)
      continue;
    if (!inputs || !inputs[i])
      return ctx->failRun("upload: no data for input " + std::to_string(i));
    Context::copyIn(v, inputs[i]);
  }
}

void launch(Context *ctx, int32_t kernel) {
  if (kernel < 0 || size_t(kernel) >= ctx->kernels.size())
    return ctx->failRun("launch: no kernel " + std::to_string(kernel) +
                        " (the context has " +
                        std::to_string(ctx->kernels.size()) + ")");
  const Kernel *k = ctx->kernels[size_t(kernel)].get();
  ctx->streams[size_t(k->stream)]->enqueue(
      {Item::Launch, ctx->profiling, 0, k, nullptr, 0});
}

void record(Context *ctx, int32_t event, int32_t stream) {
  if (!ctx->validEvent(event) || !ctx->validStream(stream))
    return ctx->failRun("record: no event " + std::to_string(event) +
                        " or no stream " + std::to_string(stream));
  Event *e = ctx->events[size_t(event)].get();
  ctx->streams[size_t(stream)]->enqueue(
      {Item::Record, false, 0, nullptr, e, ++e->issued});
}

void wait(Context *ctx, int32_t stream, int32_t event) {
  if (!ctx->validEvent(event) || !ctx->validStream(stream))
    return ctx->failRun("wait: no event " + std::to_string(event) +
                        " or no stream " + std::to_string(stream));
  Event *e = ctx->events[size_t(event)].get();
  if (e->issued == 0)
    return; // never recorded: nothing to wait for (as in CUDA)
  ctx->streams[size_t(stream)]->enqueue(
      {Item::Wait, false, 0, nullptr, e, e->issued});
}

void stage(Context *ctx, int32_t index) {
  if (ctx->profiling && !ctx->streams.empty())
    ctx->streams[0]->enqueue({Item::Stage, true, index, nullptr, nullptr, 0});
}

int32_t finishRun(Context *ctx, float *const *outputs) {
  for (auto &s : ctx->streams)
    s->drain();
  {
    std::lock_guard<std::mutex> lock(ctx->errorMutex);
    if (ctx->runFailed)
      return 0;
  }
  for (size_t i = 0; i < ctx->outputs.size(); ++i) {
    View v = ctx->outputs[i];
    if (!v.data)
      continue;
    if (!outputs || !outputs[i]) {
      ctx->failRun("finishRun: no buffer for output " + std::to_string(i));
      return 0;
    }
    Context::copyOut(v, outputs[i]);
  }
  if (ctx->profiling)
    ctx->collectProfile();
  return 1;
}

//===----------------------------------------------------------------------===//
// Embedding and tools
//===----------------------------------------------------------------------===//

void setProfiling(Context *ctx, bool on) {
  for (auto &s : ctx->streams) {
    s->drain(); // the workers append timings only to the inference's items
    if (on)
      s->timings.reserve(ctx->kernels.size() + 64);
  }
  ctx->profiling = on;
  ctx->entries.clear();
}

int32_t profile(Context *ctx, const ProfileEntry **entries) {
  if (entries)
    *entries = ctx->entries.data();
  return int32_t(ctx->entries.size());
}

int32_t cpuCores(Context *ctx) { return ctx->cores.total(); }

int32_t cpuPeakThreads(Context *ctx, bool reset) {
  int32_t peak = ctx->cores.peakThreads();
  if (reset)
    ctx->cores.resetStats();
  return peak;
}

} // namespace ios::rt
