//===- ios-stage-server.cpp - Measure stages on the IOS runtime -----------===//
//
// An exec-protocol cost server (docs/ExecProtocol.md) that times every stage
// it is asked about on the runtime backend it was linked with: built as
// ios-stage-server-cpu (CPU backend) and, when CUDA is available,
// ios-stage-server-cuda (cuDNN backend). ios-opt's `profiler=cpu` and
// `profiler=cuda` start it.
//
// Each stage is measured as the program runs it: built as a one-stage ios
// function from its op signatures, lowered by the program's lowering to
// iosrt and executed in process (ios::prof::StageExecutor). --print-stage
// prints the iosrt program it measures to stderr.
//
// Every reply announces --max-batch; above 1 the scheduler may send several
// stages per request ({"id": ..., "stages": [...]}, answered by
// {"id": ..., "latencies_ms": [...]}); they are measured one after another.
//
// A request {"id": ..., "programs": ["module {...}", ...]} times whole
// scheduled functions (ios-schedule's compare=sequential), interleaved:
// {"id": ..., "latencies_ms": [...]}; every reply says "programs": true.
//
// A request may be anything: every one is checked before it reaches the
// runtime, and a bad one gets an error reply with its id ({"id": ...,
// "error": "..."}; id null if the line is not an object with an "id") while
// the server keeps serving.
//
//===----------------------------------------------------------------------===//

#include "ios/Profiler/StageExecutor.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <iostream>
#include <string>

using namespace llvm;

// --help shows these, not libLLVM's options.
static cl::OptionCategory serverCategory("Stage server options");
static cl::opt<int> warmup("warmup", cl::desc("untimed runs per stage"),
                           cl::init(1), cl::cat(serverCategory));
static cl::opt<int> repeats("repeats",
                            cl::desc("timed runs per stage (median)"),
                            cl::init(5), cl::cat(serverCategory));
static cl::opt<int> programRepeats(
    "program-repeats",
    cl::desc("interleaved rounds of a \"programs\" request (median)"),
    cl::init(9), cl::cat(serverCategory));
static cl::opt<int64_t>
    maxArenaMb("max-arena-mb",
               cl::desc("largest memory a stage may need, in MiB (inputs, "
                        "outputs, weights)"),
               cl::init(4096), cl::cat(serverCategory));
static cl::opt<int64_t> rotateMb(
    "rotate-mb",
    cl::desc("time a stage in copies on their own memory spanning this many "
             "MiB, so it does not run from warm caches (0: one copy)"),
    cl::init(16), cl::cat(serverCategory));
// 1 by default: a batch may hold stages the one-at-a-time search would not
// measure (docs/ExecProtocol.md), and here every stage costs a measurement.
static cl::opt<unsigned> maxBatch(
    "max-batch",
    cl::desc("most stages one request may carry (1: one at a time; more may "
             "measure stages the search would skip)"),
    cl::init(1), cl::cat(serverCategory));
static cl::opt<bool>
    printStage("print-stage",
               cl::desc("print each measured stage's iosrt program to stderr"),
               cl::init(false), cl::cat(serverCategory));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(serverCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "IOS stage server: times stages on the IOS runtime (exec protocol)\n");
  ios::prof::TimingOptions opts;
  opts.warmup = std::max(0, int(warmup));
  opts.repeats = std::max(1, int(repeats));
  opts.programRepeats = std::max(1, int(programRepeats));
  opts.maxArenaFloats =
      std::clamp<int64_t>(maxArenaMb, 1, int64_t(1) << 30) * (1 << 20) / 4;
  opts.rotateBytes = std::clamp<int64_t>(rotateMb, 0, 1 << 20) << 20;
  ios::prof::StageExecutor executor(opts);
  unsigned most = std::max(1u, unsigned(maxBatch));
  // The latency of one stage object of a request.
  auto measure = [&](const json::Value &stage) -> Expected<double> {
    Expected<ios::prof::StageDescription> desc =
        ios::prof::stageFromJSON(stage);
    if (!desc)
      return desc.takeError();
    return executor.time(*desc, printStage ? &errs() : nullptr);
  };
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty())
      continue;
    json::Object reply;
    Expected<json::Value> request = json::parse(line);
    if (!request) {
      reply["id"] = nullptr;
      reply["error"] = "bad request: " + toString(request.takeError());
    } else {
      const json::Object *o = request->getAsObject();
      reply["id"] = o && o->get("id") ? *o->get("id") : json::Value(nullptr);
      const json::Value *stage = o ? o->get("stage") : nullptr;
      const json::Value *stages = o ? o->get("stages") : nullptr;
      const json::Value *programs = o ? o->get("programs") : nullptr;
      if (programs) {
        const json::Array *list = programs->getAsArray();
        std::vector<std::string> texts;
        for (size_t i = 0; list && i < list->size(); ++i)
          if (std::optional<StringRef> text = (*list)[i].getAsString())
            texts.push_back(text->str());
        Expected<std::vector<double>> ms =
            !list || texts.size() != list->size()
                ? Expected<std::vector<double>>(createStringError(
                      "\"programs\" must be a list of module texts"))
                : executor.timePrograms(texts, printStage ? &errs() : nullptr);
        if (ms)
          reply["latencies_ms"] = json::Array(*ms);
        else
          reply["error"] = toString(ms.takeError());
      } else if (stages) {
        const json::Array *list = stages->getAsArray();
        json::Array latencies;
        std::string error;
        if (!list || list->empty() || list->size() > most)
          error = formatv("\"stages\" must list 1 to {0} stages", most);
        for (size_t i = 0; error.empty() && i < list->size(); ++i) {
          Expected<double> ms = measure((*list)[i]);
          if (ms)
            latencies.push_back(*ms);
          else
            error = formatv("stage {0}: {1}", i, toString(ms.takeError()));
        }
        if (error.empty())
          reply["latencies_ms"] = std::move(latencies);
        else
          reply["error"] = error;
      } else {
        Expected<double> ms =
            stage ? measure(*stage)
                  : Expected<double>(createStringError(
                        o ? "request has no \"stage\" (or \"stages\")"
                          : "bad request: expected a JSON object"));
        if (ms)
          reply["latency_ms"] = *ms;
        else
          reply["error"] = toString(ms.takeError());
      }
      if (!reply.get("error")) {
        reply["max_batch"] = int64_t(most);
        reply["programs"] = true;
      }
    }
    outs() << json::Value(std::move(reply)) << "\n";
    outs().flush();
  }
  return 0;
}
