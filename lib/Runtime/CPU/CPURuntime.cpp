//===- CPURuntime.cpp - The IOS runtime's CPU backend ---------------------===//
//
// One worker thread per stream runs that stream's work in order. Events are
// generation counters: record() takes the next generation on the host and
// completes it when the recording stream reaches that point; wait() makes a
// stream block until the generation current at the time of the call has
// completed. All cross-thread hand-offs go through mutexes and condition
// variables, so a program that forgets a join races on arena memory and
// ThreadSanitizer reports it.
//
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include "../Safetensors.h"
#include "Kernels.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
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
    cv.notify_all();
    worker.join();
  }

  void enqueue(std::function<void()> work) {
    {
      std::lock_guard<std::mutex> lock(m);
      queue.push_back(std::move(work));
    }
    cv.notify_all();
  }

  /// Blocks until everything enqueued so far has run.
  void drain() {
    std::unique_lock<std::mutex> lock(m);
    idleCv.wait(lock, [&] { return queue.empty() && !running; });
  }

private:
  void loop() {
    std::unique_lock<std::mutex> lock(m);
    while (true) {
      cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty())
        return; // stopping
      std::function<void()> work = std::move(queue.front());
      queue.pop_front();
      running = true;
      lock.unlock();
      work();
      lock.lock();
      running = false;
      if (queue.empty())
        idleCv.notify_all();
    }
  }

  std::mutex m;
  std::condition_variable cv, idleCv;
  std::deque<std::function<void()>> queue;
  bool running = false, stopping = false;
  std::thread worker;
};

struct Event {
  std::mutex m;
  std::condition_variable cv;
  uint64_t issued = 0;    // host side: generations handed out by record()
  uint64_t completed = 0; // device side: latest generation reached
};

} // namespace

class Context {
public:
  Context(int32_t streams, int32_t events, int64_t arenaFloats)
      : arena(size_t(std::max<int64_t>(arenaFloats, 1)), 0.0f) {
    for (int32_t i = 0; i < streams; ++i)
      this->streams.push_back(std::make_unique<Stream>());
    for (int32_t i = 0; i < events; ++i)
      this->events.push_back(std::make_unique<Event>());
  }
  ~Context() { streams.clear(); } // joins the workers before the arena goes

  bool validStream(int32_t s) const {
    return s >= 0 && size_t(s) < streams.size();
  }
  bool validEvent(int32_t e) const {
    return e >= 0 && size_t(e) < events.size();
  }

  /// Records the first failure (kept until synchronize reports it).
  void fail(const std::string &message) {
    std::lock_guard<std::mutex> lock(errorMutex);
    if (firstError.empty())
      firstError = message;
  }

  /// Runs `kernel` on `stream`; its error, if any, names the op.
  void launch(int32_t stream, const char *opName,
              std::function<std::string()> kernel) {
    if (!validStream(stream)) {
      fail(std::string(opName) + ": no stream " + std::to_string(stream));
      return;
    }
    std::string name = opName;
    streams[stream]->enqueue([this, name, kernel = std::move(kernel)] {
      std::string error = kernel();
      if (!error.empty())
        fail(name + ": " + error);
    });
  }

  void drainAll() {
    for (auto &s : streams)
      s->drain();
  }

  std::vector<float> arena;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<Event>> events;
  std::map<std::string, std::vector<float>> weights;
  std::mutex errorMutex;
  std::string firstError, lastMessage;
};

View view(float *base, int64_t offset, int64_t n, int64_t c, int64_t h,
          int64_t w) {
  return View{base + offset, n, c, h, w, c * h * w};
}

View channels(View v, int64_t begin, int64_t end) {
  return View{v.data + begin * v.h * v.w, v.n, end - begin, v.h, v.w,
              v.batchStride};
}

Context *createContext(int32_t numStreams, int32_t numEvents,
                       int64_t arenaFloats, const char **error) {
  if (numStreams < 1 || numEvents < 0 || arenaFloats < 0) {
    if (error)
      *error = "createContext: needs at least one stream and non-negative "
               "event and arena sizes";
    return nullptr;
  }
  return new Context(numStreams, numEvents, arenaFloats);
}

void destroyContext(Context *ctx) { delete ctx; }

float *arena(Context *ctx) { return ctx->arena.data(); }

const char *lastError(Context *ctx) {
  std::lock_guard<std::mutex> lock(ctx->errorMutex);
  ctx->lastMessage = ctx->firstError;
  return ctx->lastMessage.c_str();
}

bool loadWeights(Context *ctx, const char *path) {
  std::map<std::string, detail::HostTensor> tensors;
  std::string error;
  if (!detail::readSafetensors(path, tensors, error)) {
    ctx->fail("loadWeights: " + error);
    return false;
  }
  for (auto &[name, t] : tensors)
    ctx->weights[name] = std::move(t.data);
  return true;
}

float *weight(Context *ctx, const char *name, int64_t elements) {
  auto it = ctx->weights.find(name);
  if (it == ctx->weights.end()) {
    ctx->fail(std::string("weight '") + name + "' is not loaded");
    return nullptr;
  }
  if (int64_t(it->second.size()) != elements) {
    ctx->fail(std::string("weight '") + name + "' has " +
              std::to_string(it->second.size()) + " values, expected " +
              std::to_string(elements));
    return nullptr;
  }
  return it->second.data();
}

bool packConvWeight(Context *ctx, const char *name, int64_t totalOut,
                    int64_t inChannels, int64_t kh, int64_t kw,
                    const char *source, int64_t outOffset, int64_t out,
                    int64_t srcKh, int64_t srcKw) {
  const float *src = weight(ctx, source, out * inChannels * srcKh * srcKw);
  if (!src)
    return false;
  if (srcKh > kh || srcKw > kw || (kh - srcKh) % 2 || (kw - srcKw) % 2 ||
      outOffset < 0 || outOffset + out > totalOut) {
    ctx->fail(std::string("packConvWeight '") + name + "': '" + source +
              "' does not fit");
    return false;
  }
  std::vector<float> &dst = ctx->weights[name];
  if (dst.empty())
    dst.assign(size_t(totalOut * inChannels * kh * kw), 0.0f);
  int64_t top = (kh - srcKh) / 2, left = (kw - srcKw) / 2;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t c = 0; c < inChannels; ++c)
      for (int64_t i = 0; i < srcKh; ++i)
        for (int64_t j = 0; j < srcKw; ++j)
          dst[(((outOffset + o) * inChannels + c) * kh + top + i) * kw + left +
              j] = src[((o * inChannels + c) * srcKh + i) * srcKw + j];
  return true;
}

bool packBias(Context *ctx, const char *name, int64_t total,
              const char *source, int64_t offset, int64_t size) {
  const float *src = weight(ctx, source, size);
  if (!src)
    return false;
  if (offset < 0 || offset + size > total) {
    ctx->fail(std::string("packBias '") + name + "': '" + source +
              "' does not fit");
    return false;
  }
  std::vector<float> &dst = ctx->weights[name];
  if (dst.empty())
    dst.assign(size_t(total), 0.0f);
  std::copy(src, src + size, dst.begin() + offset);
  return true;
}

void conv2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias, int64_t kh,
            int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
            int64_t dh, int64_t dw, int64_t groups, Act act) {
  if (!weight) {
    ctx->fail(std::string(opName) + ": missing weight");
    return;
  }
  cpu::ConvParams p{kh, kw, sh, sw, ph, pw, dh, dw, groups, act};
  ctx->launch(stream, opName,
              [=] { return cpu::conv2d(in, out, weight, bias, p); });
}

void pool2d(Context *ctx, int32_t stream, const char *opName, View in,
            View out, PoolKind kind, int64_t kh, int64_t kw, int64_t sh,
            int64_t sw, int64_t ph, int64_t pw) {
  ctx->launch(stream, opName, [=] {
    return cpu::pool2d(in, out, kind, kh, kw, sh, sw, ph, pw);
  });
}

void activation(Context *ctx, int32_t stream, const char *opName, View in,
                View out, Act act) {
  ctx->launch(stream, opName, [=] { return cpu::activation(in, out, act); });
}

void add(Context *ctx, int32_t stream, const char *opName, View out,
         int32_t count, const View *in) {
  std::vector<View> ins(in, in + std::max(count, 0));
  ctx->launch(stream, opName, [=] {
    return cpu::add(out, int32_t(ins.size()), ins.data());
  });
}

void mul(Context *ctx, int32_t stream, const char *opName, View a, View b,
         View out) {
  ctx->launch(stream, opName, [=] { return cpu::mul(a, b, out); });
}

void copy(Context *ctx, int32_t stream, const char *opName, View in,
          View out) {
  ctx->launch(stream, opName, [=] { return cpu::copy(in, out); });
}

void linear(Context *ctx, int32_t stream, const char *opName, View in,
            View out, const float *weight, const float *bias) {
  if (!weight) {
    ctx->fail(std::string(opName) + ": missing weight");
    return;
  }
  ctx->launch(stream, opName,
              [=] { return cpu::linear(in, out, weight, bias); });
}

void softmax(Context *ctx, int32_t stream, const char *opName, View in,
             View out) {
  ctx->launch(stream, opName, [=] { return cpu::softmax(in, out); });
}

void record(Context *ctx, int32_t event, int32_t stream) {
  if (!ctx->validEvent(event) || !ctx->validStream(stream)) {
    ctx->fail("record: no event " + std::to_string(event) + " or stream " +
              std::to_string(stream));
    return;
  }
  Event *e = ctx->events[event].get();
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(e->m);
    generation = ++e->issued;
  }
  ctx->streams[stream]->enqueue([e, generation] {
    {
      std::lock_guard<std::mutex> lock(e->m);
      e->completed = std::max(e->completed, generation);
    }
    e->cv.notify_all();
  });
}

void wait(Context *ctx, int32_t stream, int32_t event) {
  if (!ctx->validEvent(event) || !ctx->validStream(stream)) {
    ctx->fail("wait: no event " + std::to_string(event) + " or stream " +
              std::to_string(stream));
    return;
  }
  Event *e = ctx->events[event].get();
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(e->m);
    generation = e->issued;
  }
  ctx->streams[stream]->enqueue([e, generation] {
    std::unique_lock<std::mutex> lock(e->m);
    e->cv.wait(lock, [&] { return e->completed >= generation; });
  });
}

bool synchronize(Context *ctx) {
  ctx->drainAll();
  std::lock_guard<std::mutex> lock(ctx->errorMutex);
  return ctx->firstError.empty();
}

bool upload(Context *ctx, float *dst, const float *src, int64_t count) {
  ctx->streams[0]->drain();
  if (!dst || !src || count < 0) {
    ctx->fail("upload: bad arguments");
    return false;
  }
  std::memcpy(dst, src, size_t(count) * sizeof(float));
  return true;
}

bool download(Context *ctx, float *dst, const float *src, int64_t count) {
  ctx->streams[0]->drain();
  if (!dst || !src || count < 0) {
    ctx->fail("download: bad arguments");
    return false;
  }
  std::memcpy(dst, src, size_t(count) * sizeof(float));
  return true;
}

} // namespace ios::rt
