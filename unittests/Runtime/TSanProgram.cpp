//===- TSanProgram.cpp - A hand-written "emitted program" for TSan --------===//
//
// Built with -fsanitize=thread against IOSRuntimeCPU-thread and run by ctest:
//
//   TSanProgram joined    stream 1 produces a tensor, records an event;
//                         stream 0 waits for it, then consumes: race-free,
//                         ThreadSanitizer must stay silent (and the result is
//                         checked);
//   TSanProgram unjoined  the same program without the record/wait: stream
//                         0's read and stream 1's write are unordered and
//                         ThreadSanitizer must report the data race.
//
// The unjoined race is deterministic, not a matter of timing: stream 1's
// write comes after a slow convolution, stream 0 reads at once, and the
// runtime links two workers only through events (never through the host's
// queue or drain locks), so no interleaving orders the two accesses.
//
//===----------------------------------------------------------------------===//

#include "ios/Runtime/Runtime.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace ios::rt;

int main(int argc, char **argv) {
  bool joined = argc > 1 && !std::strcmp(argv[1], "joined");
  if (argc < 2 || (!joined && std::strcmp(argv[1], "unjoined"))) {
    std::fprintf(stderr, "usage: %s joined|unjoined\n", argv[0]);
    return 2;
  }
  constexpr int64_t C = 16, H = 24, size = C * H * H;
  Context *ctx = createContext(2, 1, 4 * size);
  View in = view(ctx, 0, 1, C, H, H, size),
       slow = view(ctx, size, 1, C, H, H, size),
       shared = view(ctx, 2 * size, 1, C, H, H, size),
       out = view(ctx, 3 * size, 1, C, H, H, size);
  std::vector<float> w(C * C * 9, 0.01f), x(size), y(size);
  for (int64_t i = 0; i < size; ++i)
    x[size_t(i)] = float(i % 7) - 3.0f;
  bindInput(ctx, 0, in);
  bindOutput(ctx, 0, out);
  addWeight(ctx, "w", w.data(), int64_t(w.size()));
  // Stream 1: a slow convolution, then the producer writes `shared`.
  int32_t conv = prepareConv2d(ctx, 1, "slow", in, slow, "w", nullptr, 3, 3,
                               1, 1, 1, 1, 1, 1, 1, ActNone);
  int32_t producer =
      prepareActivation(ctx, 1, "producer", in, shared, ActRelu);
  // Stream 0: the consumer reads `shared`.
  int32_t consumer =
      prepareActivation(ctx, 0, "consumer", shared, out, ActNone);
  if (!finishCreate(ctx)) {
    std::fprintf(stderr, "%s\n", lastError(nullptr));
    return 1;
  }
  const float *inputs[] = {x.data()};
  float *outputs[] = {y.data()};
  for (int inference = 0; inference < 2; ++inference) {
    upload(ctx, inputs);
    launch(ctx, conv);
    launch(ctx, producer);
    if (joined) {
      record(ctx, 0, 1);
      wait(ctx, 0, 0);
    }
    launch(ctx, consumer);
    if (!finishRun(ctx, outputs)) {
      std::fprintf(stderr, "%s\n", lastError(ctx));
      return 1;
    }
  }
  if (joined)
    for (int64_t i = 0; i < size; ++i)
      if (y[size_t(i)] != std::max(x[size_t(i)], 0.0f)) {
        std::fprintf(stderr, "wrong result at %lld\n", (long long)i);
        return 1;
      }
  destroyContext(ctx);
  std::printf("%s: done\n", argv[1]);
  return 0;
}
