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
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include "../Checks.h"
#include "../Safetensors.h"
#include "Kernels.h"

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
#include <thread>
#include <vector>

namespace ios::rt {

namespace {

class Stream {
public:
  Stream() : worker([this] { loop(); }) {}
  ~Stream() {
    {
      std::lock_guard<std::mutex> lock(m);
      stopping = true;
    }
    cv.notify_one();
    worker.join(); // runs what is still queued first
  }

  void enqueue(std::function<void()> work) {
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
    uint64_t done = 0;
    std::unique_lock<std::mutex> lock(m);
    while (true) {
      cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty())
        return; // stopping, and nothing left to run
      std::function<void()> work = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      work();
      work = nullptr;
      ++done;
      lock.lock();
      if (queue.empty()) {
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

  std::mutex m;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
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

  bool completed(uint64_t g) const {
    return g <= contiguous || above.count(g);
  }
  void complete(uint64_t g) {
    above.insert(g);
    while (!above.empty() && *above.begin() == contiguous + 1) {
      ++contiguous;
      above.erase(above.begin());
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

} // namespace

class Context {
public:
  Context(float *arena, int64_t arenaFloats) : arena(arena), size(arenaFloats) {}
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

  /// Checks an op's arguments on the host, then runs `kernel` on `stream`;
  /// an error either way names the op.
  void launch(int32_t stream, const char *opName, const char *kind,
              const std::string &check, std::function<std::string()> kernel) {
    std::string name = std::string(opName ? opName : "<unnamed op>") + ": " +
                       kind;
    if (!validStream(stream))
      return fail(name + ": no stream " + std::to_string(stream) + " (the " +
                  "context has " + std::to_string(streams.size()) + ")");
    if (!check.empty())
      return fail(name + ": " + check);
    streams[stream]->enqueue([this, name, kernel = std::move(kernel)] {
      std::string e = kernel();
      if (!e.empty())
        fail(name + ": " + e);
    });
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
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<Event>> events;
  std::map<std::string, std::vector<float>> weights;

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
    ctx->streams.push_back(std::make_unique<Stream>());
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
  return true;
}

void conv2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias, int64_t kh,
            int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
            int64_t dh, int64_t dw, int64_t groups, Act act) {
  cpu::ConvParams p;
  static_cast<detail::ConvShape &>(p) = {kh, kw, sh, sw, ph, pw, dh, dw,
                                         groups};
  p.act = act;
  std::string check = detail::checkConv(in, out, p);
  if (check.empty() && !weight)
    check = "missing weight";
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  ctx->launch(stream, opName, "conv2d", check,
              [=] { return cpu::conv2d(in, out, weight, bias, p); });
}

bool prepareConv2d(Context *ctx, int32_t stream, const char *opName, View in,
                   View out, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                   int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                   int64_t groups, Act act, bool hasBias) {
  (void)hasBias; // the CPU kernels need no plan: check what conv2d checks
  std::string check = detail::checkConv(
      in, out, detail::ConvShape{kh, kw, sh, sw, ph, pw, dh, dw, groups});
  if (check.empty())
    check = detail::checkAct(act);
  if (check.empty() && (stream < 0 || size_t(stream) >= ctx->streams.size()))
    check = "no stream " + std::to_string(stream);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  if (check.empty())
    return true;
  return ctx->error(std::string(opName ? opName : "<unnamed op>") +
                    ": conv2d: " + check);
}

void pool2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, PoolKind kind, int64_t kh, int64_t kw, int64_t sh,
            int64_t sw, int64_t ph, int64_t pw) {
  std::string check = detail::checkPool(in, out, kind, kh, kw, sh, sw, ph, pw);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  ctx->launch(stream, opName, "pool2d", check, [=] {
    return cpu::pool2d(in, out, kind, kh, kw, sh, sw, ph, pw);
  });
}

void activation(Context *ctx, int32_t stream, const char *opName, View in,
                View out, Act act) {
  std::string check = detail::checkElementwise(out, 1, &in);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  ctx->launch(stream, opName, "activation", check,
              [=] { return cpu::activation(in, out, act); });
}

void add(Context *ctx, int32_t stream, const char *opName, View out,
         int32_t count, const View *in) {
  std::string check = detail::checkElementwise(out, count, in);
  if (check.empty())
    check = ctx->inArena({{"output", out}});
  for (int32_t k = 0; check.empty() && k < count; ++k)
    check = ctx->inArena({{"an operand", in[k]}});
  std::vector<View> ins;
  if (check.empty())
    ins.assign(in, in + count);
  ctx->launch(stream, opName, "add", check, [=] {
    return cpu::add(out, int32_t(ins.size()), ins.data());
  });
}

void mul(Context *ctx, int32_t stream, const char *opName, View a, View b,
         View out) {
  const View ins[] = {a, b};
  std::string check = detail::checkElementwise(out, 2, ins);
  if (check.empty())
    check = ctx->inArena({{"lhs", a}, {"rhs", b}, {"output", out}});
  ctx->launch(stream, opName, "mul", check, [=] { return cpu::mul(a, b, out); });
}

void copy(Context *ctx, int32_t stream, const char *opName, View in,
          View out) {
  std::string check = detail::checkElementwise(out, 1, &in);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  ctx->launch(stream, opName, "copy", check, [=] { return cpu::copy(in, out); });
}

void linear(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias) {
  std::string check = detail::checkLinear(in, out);
  if (check.empty() && !weight)
    check = "missing weight";
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  ctx->launch(stream, opName, "linear", check,
              [=] { return cpu::linear(in, out, weight, bias); });
}

void softmax(Context *ctx, int32_t stream, const char *opName, View in,
             View out) {
  std::string check = detail::checkSoftmax(in, out);
  if (check.empty())
    check = ctx->inArena({{"input", in}, {"output", out}});
  ctx->launch(stream, opName, "softmax", check, [=] { return cpu::softmax(in, out); });
}

void record(Context *ctx, int32_t event, int32_t stream) {
  if (!ctx->validEvent(event) || !ctx->validStream(stream))
    return ctx->fail("record: no event " + std::to_string(event) +
                     " or no stream " + std::to_string(stream));
  Event *e = ctx->events[event].get();
  uint64_t generation = ++e->issued;
  ctx->streams[stream]->enqueue([e, generation] {
    {
      std::lock_guard<std::mutex> lock(e->m);
      e->complete(generation);
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
  ctx->streams[stream]->enqueue([e, generation] {
    std::unique_lock<std::mutex> lock(e->m);
    e->cv.wait(lock, [&] { return e->completed(generation); });
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

bool upload(Context *ctx, float *dst, const float *src, int64_t count) {
  return hostCopy(ctx, "upload", dst, src, count, dst);
}

bool download(Context *ctx, float *dst, const float *src, int64_t count) {
  return hostCopy(ctx, "download", dst, src, count, src);
}

} // namespace ios::rt
