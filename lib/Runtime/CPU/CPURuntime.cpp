//===- CPURuntime.cpp - The IOS runtime's CPU backend ---------------------===//
//
// One worker thread per stream runs that stream's closures in FIFO order.
// Events are generation counters: record() takes the event's next generation
// on the host and completes it when the recording stream reaches that point;
// wait() makes a stream block until the generation that was current when the
// host called it (the latest record issued before it) has completed, like
// cudaStreamWaitEvent. Hand-offs between threads go through mutexes and
// condition variables only where the program orders work:
//
//  * host -> worker: enqueueing (the stream's queue mutex);
//  * worker -> worker: an event's record and wait (the event's mutex);
//  * worker -> host: synchronize/upload/download draining a stream (the
//    stream's idle mutex, which a worker touches only once its queue ran
//    dry).
//
// Host-side event counters are the host's alone, so no other lock links two
// workers: a program that forgets a join leaves the producer's writes and
// the consumer's reads unordered, and ThreadSanitizer reports the race.
//
// Ops run as oneDNN primitives (Primitives.h), planned on the host once per
// configuration. The cores are shared between the streams (Cores.h): a
// worker reports when it can run and when it blocks in a wait (an event's
// record credits the streams it wakes), and each op runs with its share of
// the free cores. A worker whose queue runs dry stops counting as runnable,
// except right after a wait: a stream that just passed a stage's fork gets
// its ops a moment later (the host enqueues group by group), and the
// groups enqueued first must already leave it its share.
//
// oneDNN's own code is not instrumented, so sanitized builds tell the
// sanitizer what each op reads and writes (annotate()) on the worker that
// runs it; under ThreadSanitizer ops run on that worker alone (one thread
// each): libgomp's barriers are invisible to it, and an access made by an
// OpenMP thread would look unordered with everything.
//
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include "../Checks.h"
#include "../Safetensors.h"
#include "Cores.h"
#include "Primitives.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
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

using Work = std::function<void(cpu::Worker &)>;

class Stream {
public:
  explicit Stream(cpu::Cores &cores) : cores(cores), worker([this] { loop(); }) {}
  ~Stream() {
    {
      std::lock_guard<std::mutex> lock(m);
      stopping = true;
    }
    cv.notify_one();
    worker.join(); // runs what is still queued first
  }

  void enqueue(Work work) {
    {
      std::lock_guard<std::mutex> lock(m);
      queue.push_back(std::move(work));
    }
    ++submitted;
    cv.notify_one();
  }

  /// Blocks the host until everything enqueued so far has run.
  void drain() {
    std::unique_lock<std::mutex> lock(idleMutex);
    idleCv.wait(lock, [&] { return finished >= submitted; });
  }

private:
  void loop() {
    cpu::Worker state; // this thread's oneDNN stream and scratch
    uint64_t done = 0;
    bool running = false; // counted as runnable by `cores`
    std::unique_lock<std::mutex> lock(m);
    while (true) {
      cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty())
        return; // stopping, and nothing left to run
      Work work = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      if (!running) {
        cores.runnable();
        running = true;
      }
      state.afterWait = false;
      work(state);
      work = nullptr;
      ++done;
      lock.lock();
      if (queue.empty()) {
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

  cpu::Cores &cores;
  std::mutex m;
  std::condition_variable cv;
  std::deque<Work> queue;
  bool stopping = false;

  uint64_t submitted = 0; // host only
  std::mutex idleMutex;
  std::condition_variable idleCv;
  uint64_t finished = 0; // guarded by idleMutex

  std::thread worker; // last: starts after the members above exist
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
  // them as runnable again before it goes on, so its next op already
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

float *allocateArena(int64_t floats) {
  size_t bytes = size_t(std::max<int64_t>(floats, 1)) * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, bytes);
  if (p)
    std::memset(p, 0, bytes);
  return static_cast<float *>(p);
}


/// What an op reads or writes: `n` runs of `image` floats, `stride` apart.
struct Access {
  const float *data;
  int64_t n, image, stride;
  bool write;
  static Access of(View v, bool write) {
    return {v.data, v.n, v.c * v.h * v.w, v.batchStride, write};
  }
  static Access flat(const float *p, int64_t count) {
    return {p, 1, count, count, false};
  }
};

/// Tells a sanitizer about the accesses oneDNN's (uninstrumented) code makes.
void annotate(std::initializer_list<Access> accesses) {
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
  return cpu::Cores(1, false); // one thread per op: see the file comment
#else
  bool share = true;
  int cores = cpu::Cores::fromEnvironment(share);
  const char *small = std::getenv("IOS_CPU_SMALL_OPS");
  return cpu::Cores(cores, share,
                    small && std::string_view(small) == "all");
#endif
}

} // namespace

class Context {
public:
  Context(float *arena, int64_t arenaFloats)
      : arena(arena), size(arenaFloats), cores(makeCores()) {}
  ~Context() {
    streams.clear(); // joins the workers before the arena goes
    std::free(arena);
  }

  bool validStream(int32_t s) const {
    return s >= 0 && size_t(s) < streams.size();
  }
  bool validEvent(int32_t e) const {
    return e >= 0 && size_t(e) < events.size();
  }

  /// A failed host call: the message is lastError(), nothing is pending.
  bool error(const std::string &text) {
    std::lock_guard<std::mutex> lock(errorMutex);
    message = text;
    return false;
  }
  /// A failed op (checked on the host or run on a worker): the first one
  /// since the last synchronize() is kept and makes it return false.
  void fail(const std::string &text) {
    std::lock_guard<std::mutex> lock(errorMutex);
    if (!opFailed) {
      opFailed = true;
      message = text;
    }
  }

  static std::string opLabel(const char *opName, const char *kind) {
    return std::string(opName ? opName : "<unnamed op>") + ": " + kind;
  }

  /// Checks an op on the host (`check`, then the stream), plans it (`plan`
  /// returns the plan or throws dnnl::error), then runs `kernel` on
  /// `stream` with its share of the cores; an error either way names the op.
  template <typename P, typename MakePlan, typename Kernel>
  void launch(int32_t stream, const char *opName, const char *kind,
              const std::string &check, MakePlan plan, Kernel kernel) {
    std::string name = opLabel(opName, kind);
    if (!validStream(stream))
      return fail(name + ": no stream " + std::to_string(stream) + " (the " +
                  "context has " + std::to_string(streams.size()) + ")");
    if (!check.empty())
      return fail(name + ": " + check);
    std::shared_ptr<const P> p;
    try {
      p = plan();
    } catch (const dnnl::error &e) {
      return fail(name + ": oneDNN: " + e.what());
    }
    streams[stream]->enqueue(
        [this, name, p, kernel = std::move(kernel)](cpu::Worker &w) {
          int variant = cores.acquire(p->maxThreads());
          cpu::setThreads(cores.counts()[size_t(variant)]);
          try {
            kernel(w, variant, *p);
          } catch (const dnnl::error &e) {
            fail(name + ": oneDNN: " + e.what());
          }
          cores.release(variant);
        });
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

  std::shared_ptr<const cpu::ConvPlan>
  convPlan(View in, View out, const detail::ConvShape &s, Act act,
           bool bias) {
    return plan<cpu::ConvPlan>(
        key("conv", geometry(in), geometry(out), str(s.kh), str(s.kw),
            str(s.sh), str(s.sw), str(s.ph), str(s.pw), str(s.dh), str(s.dw),
            str(s.groups), str(act), str(bias)),
        [&] {
          return std::make_shared<cpu::ConvPlan>(in, out, s, act, bias,
                                                 cores.counts());
        });
  }

  /// `weight` in `plan`'s layouts if it is one of the context's weights
  /// (reordered once, here on the host), else null: the op then reorders
  /// it on every run (memory the context does not own may change).
  std::shared_ptr<const std::vector<dnnl::memory>>
  packed(const cpu::ConvPlan &plan, const float *weight) {
    if (ownedDirty) {
      owned.clear();
      for (auto &[name, data] : weights)
        owned.insert(data.data());
      ownedDirty = false;
    }
    if (!owned.count(weight))
      return nullptr;
    auto &slot = packs[{&plan, weight}];
    if (!slot) {
      if (!hostStream)
        hostStream = std::make_unique<dnnl::stream>(cpu::engine());
      slot = std::make_shared<const std::vector<dnnl::memory>>(
          plan.pack(weight, *hostStream));
    }
    return slot;
  }
  /// Weights changed: packed copies are stale.
  void weightsChanged() {
    ownedDirty = true;
    packs.clear();
  }

  /// The arena check of every view an op touches.
  std::string inArena(std::initializer_list<std::pair<const char *, View>> vs) {
    for (auto &[role, v] : vs) {
      std::string e = detail::checkInArena(role, v, arena, size);
      if (!e.empty())
        return e;
    }
    return {};
  }

  float *arena;
  int64_t size;
  cpu::Cores cores;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<Event>> events;
  std::map<std::string, std::vector<float>> weights;

  // Host only: plans by configuration, packed weights by (plan, weight).
  std::map<std::string, std::shared_ptr<const cpu::Plan>> plans;
  std::set<const float *> owned;
  bool ownedDirty = true;
  std::map<std::pair<const cpu::ConvPlan *, const float *>,
           std::shared_ptr<const std::vector<dnnl::memory>>>
      packs;
  std::unique_ptr<dnnl::stream> hostStream;

  std::mutex errorMutex;
  bool opFailed = false;
  std::string message, returned;
};

Context *createContext(int32_t numStreams, int32_t numEvents,
                       int64_t arenaFloats, const char **error) {
  auto fail = [&](const char *text) -> Context * {
    if (error)
      *error = text;
    return nullptr;
  };
  if (numStreams < 1 || numEvents < 0 || arenaFloats < 0)
    return fail("createContext: needs at least one stream and non-negative "
                "event and arena sizes");
  float *arena = allocateArena(arenaFloats);
  if (!arena)
    return fail("createContext: cannot allocate the arena");
  auto *ctx = new Context(arena, arenaFloats);
  for (int32_t i = 0; i < numEvents; ++i)
    ctx->events.push_back(std::make_unique<Event>());
  for (int32_t i = 0; i < numStreams; ++i)
    ctx->streams.push_back(std::make_unique<Stream>(ctx->cores));
  return ctx;
}

void destroyContext(Context *ctx) { delete ctx; }

float *arena(Context *ctx) { return ctx->arena; }

const char *lastError(Context *ctx) {
  std::lock_guard<std::mutex> lock(ctx->errorMutex);
  ctx->returned = ctx->message;
  return ctx->returned.c_str();
}

bool loadWeights(Context *ctx, const char *path) {
  std::map<std::string, detail::HostTensor> tensors;
  std::string error;
  if (!path || !detail::readSafetensors(path, tensors, error))
    return ctx->error("loadWeights: " + (path ? error : "no path"));
  for (auto &[name, t] : tensors)
    ctx->weights[name] = std::move(t.data);
  ctx->weightsChanged();
  return true;
}

float *weight(Context *ctx, const char *name, int64_t elements) {
  auto it = ctx->weights.find(name ? name : "");
  if (std::string e = detail::checkWeight(
          name, it == ctx->weights.end() ? nullptr : &it->second, elements);
      !e.empty()) {
    ctx->error(e);
    ctx->fail(e); // the inference fails too (Checks.h)
    return nullptr;
  }
  return it->second.data();
}

/// The packed tensor `name` of `size` floats, created zero-filled.
static std::vector<float> *packTarget(Context *ctx, const char *what,
                                      const char *name, int64_t size) {
  auto [it, inserted] = ctx->weights.try_emplace(name);
  if (inserted)
    it->second.assign(size_t(size), 0.0f);
  if (int64_t(it->second.size()) != size) {
    ctx->error(std::string(what) + " '" + name + "': exists with " +
               std::to_string(it->second.size()) + " values, expected " +
               std::to_string(size));
    return nullptr;
  }
  return &it->second;
}

bool packConvWeight(Context *ctx, const char *name, int64_t totalOut,
                    int64_t inChannels, int64_t kh, int64_t kw,
                    const char *source, int64_t outOffset, int64_t out,
                    int64_t srcKh, int64_t srcKw) {
  std::string what = std::string("packConvWeight '") + name + "' <- '" +
                     source + "'";
  if (std::string why = detail::checkPackConv(totalOut, inChannels, kh, kw,
                                              outOffset, out, srcKh, srcKw);
      !why.empty())
    return ctx->error(what + ": " + why);
  const float *src = weight(ctx, source, out * inChannels * srcKh * srcKw);
  if (!src)
    return ctx->error(what + ": " + lastError(ctx));
  std::vector<float> *dst =
      packTarget(ctx, "packConvWeight", name, totalOut * inChannels * kh * kw);
  if (!dst)
    return false;
  detail::packConvInto(dst->data(), src, inChannels, kh, kw, outOffset, out,
                       srcKh, srcKw);
  ctx->weightsChanged();
  return true;
}

bool packBias(Context *ctx, const char *name, int64_t total,
              const char *source, int64_t offset, int64_t size) {
  std::string what = std::string("packBias '") + name + "' <- '" + source + "'";
  if (std::string why = detail::checkPackBias(total, offset, size);
      !why.empty())
    return ctx->error(what + ": " + why);
  const float *src = weight(ctx, source, size);
  if (!src)
    return ctx->error(what + ": " + lastError(ctx));
  std::vector<float> *dst = packTarget(ctx, "packBias", name, total);
  if (!dst)
    return false;
  std::copy(src, src + size, dst->begin() + offset);
  ctx->weightsChanged();
  return true;
}

void conv2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias, int64_t kh,
            int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
            int64_t dh, int64_t dw, int64_t groups, Act act) {
  detail::ConvShape s{kh, kw, sh, sw, ph, pw, dh, dw, groups};
  std::string check = detail::checkConv(in, out, s);
  if (check.empty())
    check = detail::checkAct(act);
  if (check.empty() && !weight)
    check = "missing weight";
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  // Set by the planning step (it runs first, on the host).
  auto packed =
      std::make_shared<std::shared_ptr<const std::vector<dnnl::memory>>>();
  int64_t weights = out.c * (in.c / std::max<int64_t>(groups, 1)) * kh * kw;
  ctx->launch<cpu::ConvPlan>(
      stream, opName, "conv2d", check,
      [&] {
        auto plan = ctx->convPlan(in, out, s, act, bias != nullptr);
        *packed = ctx->packed(*plan, weight);
        return plan;
      },
      [=](cpu::Worker &w, int variant, const cpu::ConvPlan &plan) {
        annotate({Access::of(in, false), Access::flat(weight, weights),
                  Access::flat(bias, out.c), Access::of(out, true)});
        plan.run(w, variant, in, out, weight, packed->get(), bias);
      });
}

/// The checks of both prepareConv2d overloads; plans the convolution.
static bool prepare(Context *ctx, int32_t stream, const char *opName, View in,
                    View out, const float *weight,
                    const detail::ConvShape &s, Act act, bool hasBias) {
  std::string check = detail::checkConv(in, out, s);
  if (check.empty())
    check = detail::checkAct(act);
  if (check.empty() && !ctx->validStream(stream))
    check = "no stream " + std::to_string(stream);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  std::string name = Context::opLabel(opName, "conv2d");
  if (!check.empty())
    return ctx->error(name + ": " + check);
  try {
    auto plan = ctx->convPlan(in, out, s, act, hasBias);
    if (weight)
      ctx->packed(*plan, weight);
  } catch (const dnnl::error &e) {
    return ctx->error(name + ": oneDNN: " + e.what());
  }
  return true;
}

bool prepareConv2d(Context *ctx, int32_t stream, const char *opName, View in,
                   View out, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                   int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                   int64_t groups, Act act, bool hasBias) {
  return prepare(ctx, stream, opName, in, out, nullptr,
                 detail::ConvShape{kh, kw, sh, sw, ph, pw, dh, dw, groups},
                 act, hasBias);
}

bool prepareConv2d(Context *ctx, int32_t stream, const char *opName, View in,
                   View out, const float *weight, const float *bias,
                   int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                   int64_t pw, int64_t dh, int64_t dw, int64_t groups,
                   Act act) {
  if (!weight)
    return ctx->error(Context::opLabel(opName, "conv2d") +
                      ": missing weight");
  return prepare(ctx, stream, opName, in, out, weight,
                 detail::ConvShape{kh, kw, sh, sw, ph, pw, dh, dw, groups},
                 act, bias != nullptr);
}

void pool2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, PoolKind kind, int64_t kh, int64_t kw, int64_t sh,
            int64_t sw, int64_t ph, int64_t pw) {
  std::string check = detail::checkPool(in, out, kind, kh, kw, sh, sw, ph, pw);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  ctx->launch<cpu::PoolPlan>(
      stream, opName, "pool2d", check,
      [&] {
        return ctx->plan<cpu::PoolPlan>(
            key("pool", geometry(in), geometry(out), str(kind), str(kh),
                str(kw), str(sh), str(sw), str(ph), str(pw)),
            [&] {
              return std::make_shared<cpu::PoolPlan>(
                  in, out, kind, kh, kw, sh, sw, ph, pw, ctx->cores.counts());
            });
      },
      [=](cpu::Worker &w, int variant, const cpu::PoolPlan &plan) {
        annotate({Access::of(in, false), Access::of(out, true)});
        plan.run(w, variant, in, out);
      });
}

/// activation() and copy() (ActNone).
static void unary(Context *ctx, int32_t stream, const char *opName,
                  const char *kind, View in, View out, Act act) {
  std::string check = detail::checkElementwise(out, 1, &in);
  if (check.empty())
    check = detail::checkAct(act);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  ctx->launch<cpu::ActivationPlan>(
      stream, opName, kind, check,
      [&] {
        int64_t length = cpu::Elementwise::of(out, 1, &in).length;
        return ctx->plan<cpu::ActivationPlan>(
            key("unary", str(length), str(act)), [&] {
              return std::make_shared<cpu::ActivationPlan>(
                  length, act, ctx->cores.counts());
            });
      },
      [=](cpu::Worker &w, int variant, const cpu::ActivationPlan &plan) {
        annotate({Access::of(in, false), Access::of(out, true)});
        plan.run(w, variant, in, out);
      });
}

void activation(Context *ctx, int32_t stream, const char *opName, View in,
                View out, Act act) {
  unary(ctx, stream, opName, "activation", in, out, act);
}

void copy(Context *ctx, int32_t stream, const char *opName, View in,
          View out) {
  unary(ctx, stream, opName, "copy", in, out, ActNone);
}

void add(Context *ctx, int32_t stream, const char *opName, View out,
         int32_t count, const View *in) {
  std::string check = detail::checkElementwise(out, count, in);
  if (check.empty())
    check = ctx->inArena({{"output", out}});
  for (int32_t k = 0; check.empty() && k < count; ++k)
    check = ctx->inArena({{"an operand", in[k]}});
  // Equal operands become one, scaled; an operand that is the output itself
  // goes first: oneDNN sums in place only into source 0 (it writes the
  // output before it reads sources 1..).
  std::vector<View> srcs;
  std::vector<float> scales;
  for (int32_t k = 0; check.empty() && k < count; ++k) {
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
  ctx->launch<cpu::SumPlan>(
      stream, opName, "add", check,
      [&] {
        int64_t length =
            cpu::Elementwise::of(out, int32_t(srcs.size()), srcs.data())
                .length;
        std::string k = key("sum", str(length));
        for (float s : scales)
          k += ":" + str(int64_t(s));
        return ctx->plan<cpu::SumPlan>(k, [&] {
          return std::make_shared<cpu::SumPlan>(length, scales,
                                                ctx->cores.counts());
        });
      },
      [=](cpu::Worker &w, int variant, const cpu::SumPlan &plan) {
        for (View v : srcs)
          annotate({Access::of(v, false)});
        annotate({Access::of(out, true)});
        plan.run(w, variant, out, srcs);
      });
}

void mul(Context *ctx, int32_t stream, const char *opName, View a, View b,
         View out) {
  const View ins[] = {a, b};
  std::string check = detail::checkElementwise(out, 2, ins);
  if (check.empty())
    check = ctx->inArena({{"lhs", a}, {"rhs", b}, {"output", out}});
  // oneDNN multiplies in place only into source 0.
  if (detail::sameElements(b, out))
    std::swap(a, b);
  ctx->launch<cpu::MulPlan>(
      stream, opName, "mul", check,
      [&] {
        int64_t length = cpu::Elementwise::of(out, 2, ins).length;
        return ctx->plan<cpu::MulPlan>(key("mul", str(length)), [&] {
          return std::make_shared<cpu::MulPlan>(length, ctx->cores.counts());
        });
      },
      [=](cpu::Worker &w, int variant, const cpu::MulPlan &plan) {
        annotate({Access::of(a, false), Access::of(b, false),
                  Access::of(out, true)});
        plan.run(w, variant, a, b, out);
      });
}

void linear(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias) {
  std::string check = detail::checkLinear(in, out);
  if (check.empty() && !weight)
    check = "missing weight";
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  int64_t k = in.c * in.h * in.w, m = out.c * out.h * out.w;
  ctx->launch<cpu::LinearPlan>(
      stream, opName, "linear", check,
      [&] {
        return ctx->plan<cpu::LinearPlan>(
            key("linear", geometry(in), geometry(out), str(bias != nullptr)),
            [&] {
              return std::make_shared<cpu::LinearPlan>(
                  in, out, bias != nullptr, ctx->cores.counts());
            });
      },
      [=](cpu::Worker &w, int variant, const cpu::LinearPlan &plan) {
        annotate({Access::of(in, false), Access::flat(weight, k * m),
                  Access::flat(bias, m), Access::of(out, true)});
        plan.run(w, variant, in, out, weight, bias);
      });
}

void softmax(Context *ctx, int32_t stream, const char *opName, View in,
             View out) {
  std::string check = detail::checkSoftmax(in, out);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  ctx->launch<cpu::SoftmaxPlan>(
      stream, opName, "softmax", check,
      [&] {
        return ctx->plan<cpu::SoftmaxPlan>(
            key("softmax", geometry(in), geometry(out)), [&] {
              return std::make_shared<cpu::SoftmaxPlan>(in, out,
                                                        ctx->cores.counts());
            });
      },
      [=](cpu::Worker &w, int variant, const cpu::SoftmaxPlan &plan) {
        annotate({Access::of(in, false), Access::of(out, true)});
        plan.run(w, variant, in, out);
      });
}

void record(Context *ctx, int32_t event, int32_t stream) {
  if (!ctx->validEvent(event) || !ctx->validStream(stream))
    return ctx->fail("record: no event " + std::to_string(event) +
                     " or no stream " + std::to_string(stream));
  Event *e = ctx->events[event].get();
  uint64_t generation = ++e->issued;
  ctx->streams[stream]->enqueue([e, generation, ctx](cpu::Worker &) {
    {
      std::lock_guard<std::mutex> lock(e->m);
      e->complete(generation, ctx->cores);
    }
    e->cv.notify_all();
  });
}

void wait(Context *ctx, int32_t stream, int32_t event) {
  if (!ctx->validEvent(event) || !ctx->validStream(stream))
    return ctx->fail("wait: no event " + std::to_string(event) +
                     " or no stream " + std::to_string(stream));
  Event *e = ctx->events[event].get();
  uint64_t generation = e->issued;
  if (generation == 0)
    return; // never recorded: nothing to wait for (as in CUDA)
  ctx->streams[stream]->enqueue([e, generation, ctx](cpu::Worker &w) {
    w.afterWait = true;
    std::unique_lock<std::mutex> lock(e->m);
    if (e->completed(generation))
      return;
    // Blocked: this stream's cores go to the others until the record
    // credits it back.
    Event::Sleeper me{generation, false};
    e->sleepers.push_back(&me);
    ctx->cores.blocked();
    e->cv.wait(lock, [&] { return e->completed(generation); });
    e->sleepers.erase(std::find(e->sleepers.begin(), e->sleepers.end(), &me));
    if (!me.credited)
      ctx->cores.runnable();
  });
}

bool synchronize(Context *ctx) {
  for (auto &s : ctx->streams)
    s->drain();
  std::lock_guard<std::mutex> lock(ctx->errorMutex);
  bool ok = !ctx->opFailed;
  ctx->opFailed = false; // reported; the message stays in lastError()
  return ok;
}

static bool hostCopy(Context *ctx, const char *what, float *dst,
                     const float *src, int64_t count, const float *arenaSide) {
  ctx->streams[0]->drain();
  if (!dst || !src || count < 0)
    return ctx->error(std::string(what) + ": bad arguments");
  View v{const_cast<float *>(arenaSide), 1, 1, 1, std::max<int64_t>(count, 1),
         std::max<int64_t>(count, 1)};
  if (std::string e = detail::checkInArena("the range", v, ctx->arena,
                                           ctx->size);
      !e.empty())
    return ctx->error(std::string(what) + ": " + e);
  std::memcpy(dst, src, size_t(count) * sizeof(float));
  return true;
}

int32_t cpuCores(Context *ctx) { return ctx->cores.total(); }

int32_t cpuPeakThreads(Context *ctx, bool reset) {
  int32_t peak = ctx->cores.peakThreads();
  if (reset)
    ctx->cores.resetStats();
  return peak;
}

bool upload(Context *ctx, float *dst, const float *src, int64_t count) {
  return hostCopy(ctx, "upload", dst, src, count, dst);
}

bool download(Context *ctx, float *dst, const float *src, int64_t count) {
  return hostCopy(ctx, "download", dst, src, count, src);
}

} // namespace ios::rt
