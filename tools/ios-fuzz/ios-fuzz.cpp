//===- ios-fuzz.cpp - Mutation fuzzer of the IOS compiler -----------------===//
//
// Mutates seed MLIR files (token deletions, duplications and swaps, boundary
// integers, op / attribute / keyword replacements from the corpus, lines
// spliced from other seeds) and runs every case through what a user's input
// goes through: the parser and verifier, --ios-schedule with the analytic
// profiler and small budgets, the ios-lower-to-cpp pipeline and the C++
// emitter (into a null stream). Each case runs in a forked child with a
// timeout, so a crash or a hang of the compiler is a finding, not the end
// of the run. Case K of seed S is the same input on every run and for any
// --jobs: `--first-case K --cases 1 --print` prints it.
//
// Outcomes: ok, diagnosed (a located error: the expected answer to bad
// input), internal (a pass produced IR the verifier rejects, or the emitter
// rejected what the lowering accepted), crash (a signal or LLVM ERROR) and
// hang (killed after --timeout-ms). Inputs of the last three are saved to
// --out with their signature; the exit code is 1 if there is any.
//
//===----------------------------------------------------------------------===//

#include "ios/Conversion/Pipelines.h"
#include "ios/Dialect/IOS/IR/IOSOps.h"
#include "ios/Dialect/IOS/Transforms/Passes.h"
#include "ios/InitAll.h"
#include "ios/Support/CommandLine.h"
#include "ios/Target/Cpp.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/DebugInfo/Symbolize/Symbolize.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <set>

#if defined(__SANITIZE_ADDRESS__)
#define IOS_FUZZ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IOS_FUZZ_SANITIZED 1
#endif
#endif
#if IOS_FUZZ_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mlir;
namespace cl = llvm::cl;

static cl::list<std::string>
    optInputs(cl::Positional, cl::OneOrMore,
              cl::desc("<seed .mlir files or directories (searched "
                       "recursively for *.mlir)>"));
static cl::opt<uint64_t> optCases("cases", cl::desc("cases to run (default 1000)"),
                                  cl::init(1000));
static cl::opt<uint64_t>
    optSeed("seed", cl::desc("seed of the mutations (case K of a seed is "
                             "always the same input; default 1)"),
            cl::init(1));
static cl::opt<uint64_t>
    optFirstCase("first-case", cl::desc("index of the first case to run"),
                 cl::init(0));
static cl::opt<unsigned>
    optTimeoutMs("timeout-ms",
                 cl::desc("a case running longer is a hang (milliseconds, default 5000)"),
                 cl::init(5000));
static cl::opt<unsigned> optJobs("jobs", cl::desc("cases run at once (default 1)"),
                                 cl::init(1));
static cl::opt<unsigned>
    optMaxMutations("max-mutations",
                    cl::desc("mutations per case: 1 to this many (default 3)"),
                    cl::init(3));
static cl::opt<unsigned>
    optMemoryMB("memory-mb",
                cl::desc("address-space limit of a case (MiB; an allocation "
                         "beyond it is a crash; default 4096)"),
                cl::init(4096));
static cl::opt<std::string>
    optOut("out", cl::desc("directory for the inputs of crashes, hangs and "
                           "internal errors (created; default: not saved)"),
           cl::init(""));
static cl::opt<uint64_t>
    optProgress("progress",
                cl::desc("print the counts every this many cases on stderr "
                         "(default 0: never)"),
                cl::init(0));
static cl::opt<bool>
    optPrint("print", cl::desc("print the cases' inputs instead of running "
                               "them"),
             cl::init(false));
// Checks the harness itself: every case that verifies then crashes or
// hangs on purpose (test/Tools/fuzz.test).
static cl::opt<std::string>
    optInject("inject",
              cl::desc("make each verified case fail: segv, abort, fatal or "
                       "hang (checks the harness)"),
              cl::init(""), cl::ReallyHidden);
static cl::opt<bool>
    optVerbose("verbose", cl::desc("let the cases print their diagnostics"),
               cl::init(false));

//===----------------------------------------------------------------------===//
// Corpus and mutations
//===----------------------------------------------------------------------===//

namespace {

/// splitmix64: small, fast and the same everywhere.
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); n > 0.
  size_t below(size_t n) { return next() % n; }
  template <typename T> const T &pick(const std::vector<T> &v) {
    return v[below(v.size())];
  }
};

enum class TokKind { Int, Float, Ident, OpName, AttrName, String, Sigil, Punct,
                     Comment };

struct Token {
  std::string space; // whitespace before the token
  std::string text;
  TokKind kind;
};

bool isIdentStart(char c) { return llvm::isAlpha(c) || c == '_'; }
bool isIdentChar(char c) {
  return llvm::isAlnum(c) || c == '_' || c == '.' || c == '$' || c == '-';
}

/// MLIR-ish tokens: enough to mutate at the grain of the language (a shape
/// `2x3xf32` is `2` `x` `3` `x` `f32`, an op name is one token).
std::vector<Token> tokenize(llvm::StringRef s) {
  std::vector<Token> toks;
  std::string space;
  size_t i = 0, n = s.size();
  auto push = [&](size_t begin, TokKind kind) {
    toks.push_back({std::move(space), s.slice(begin, i).str(), kind});
    space.clear();
  };
  while (i < n) {
    char c = s[i];
    size_t b = i;
    if (llvm::isSpace(c)) {
      space += c;
      ++i;
    } else if (s.substr(i).starts_with("//")) {
      i = std::min(n, s.find('\n', i));
      push(b, TokKind::Comment);
    } else if (c == '"') {
      for (++i; i < n && s[i] != '"' && s[i] != '\n'; ++i)
        if (s[i] == '\\')
          ++i;
      i = std::min(n, i + 1);
      push(b, TokKind::String);
    } else if (llvm::isDigit(c)) {
      if (s.substr(i).starts_with("0x")) {
        i += 2;
        while (i < n && llvm::isHexDigit(s[i]))
          ++i;
        push(b, TokKind::Int);
        continue;
      }
      while (i < n && llvm::isDigit(s[i]))
        ++i;
      bool isFloat = false;
      if (i + 1 < n && s[i] == '.' && llvm::isDigit(s[i + 1])) {
        isFloat = true;
        ++i;
        while (i < n && llvm::isDigit(s[i]))
          ++i;
      }
      if (i < n && (s[i] == 'e' || s[i] == 'E') && i + 1 < n &&
          (llvm::isDigit(s[i + 1]) || s[i + 1] == '-' || s[i + 1] == '+')) {
        isFloat = true;
        i += 2;
        while (i < n && llvm::isDigit(s[i]))
          ++i;
      }
      push(b, isFloat ? TokKind::Float : TokKind::Int);
      // The `x` of a shape after a dimension.
      if (!isFloat && i < n && s[i] == 'x') {
        b = i++;
        push(b, TokKind::Punct);
      }
    } else if (isIdentStart(c)) {
      while (i < n && isIdentChar(s[i]) &&
             !(s[i] == '-' && i + 1 < n && s[i + 1] == '>'))
        ++i;
      push(b, TokKind::Ident);
    } else if ((c == '%' || c == '@' || c == '#' || c == '^' || c == '!') &&
               i + 1 < n && s[i + 1] == '"') {
      for (i += 2; i < n && s[i] != '"' && s[i] != '\n'; ++i)
        if (s[i] == '\\')
          ++i;
      i = std::min(n, i + 1);
      push(b, TokKind::Sigil);
    } else if (c == '%' || c == '@' || c == '#' || c == '^' || c == '!') {
      for (++i; i < n && (isIdentChar(s[i]) || s[i] == ':' || s[i] == '#');
           ++i)
        if (s[i] == '-' && i + 1 < n && s[i + 1] == '>')
          break;
      push(b, TokKind::Sigil);
    } else {
      i += s.substr(i).starts_with("->") ? 2 : 1;
      push(b, TokKind::Punct);
    }
  }
  if (!toks.empty() && !space.empty())
    toks.push_back({std::move(space), "", TokKind::Punct});
  // Op names (a dotted identifier not followed by `=` or `<`) and attribute
  // names (an identifier followed by `=`).
  for (size_t t = 0; t < toks.size(); ++t) {
    if (toks[t].kind != TokKind::Ident)
      continue;
    llvm::StringRef next =
        t + 1 < toks.size() ? llvm::StringRef(toks[t + 1].text) : "";
    if (next == "=")
      toks[t].kind = TokKind::AttrName;
    else if (llvm::StringRef(toks[t].text).contains('.') && next != "<")
      toks[t].kind = TokKind::OpName;
  }
  return toks;
}

std::string render(const std::vector<Token> &toks) {
  std::string s;
  for (const Token &t : toks)
    s += t.space + t.text;
  return s;
}

/// The seeds and what mutations draw from: every seed's op names,
/// attribute names and bare identifiers (keywords, types, enum cases).
struct Corpus {
  std::vector<std::string> seeds; // one per `// -----` chunk
  std::vector<std::string> seedNames;
  std::vector<size_t> validSeeds; // the seeds the verifier accepts
  std::vector<std::string> opNames, attrNames;
  // Bare identifiers (keywords, types, enum cases) by the token before
  // them: `x` -> f32, i64...; `ios.activation` -> relu, tanh...
  std::map<std::string, std::vector<std::string>> keywordsAfter;
  size_t files = 0;

  void add(llvm::StringRef name, llvm::StringRef text) {
    ++files;
    llvm::SmallVector<llvm::StringRef> chunks;
    text.split(chunks, "// -----");
    for (auto [i, chunk] : llvm::enumerate(chunks)) {
      if (chunk.trim().empty())
        continue;
      seeds.push_back(chunk.str());
      seedNames.push_back(chunks.size() > 1
                              ? (name + "#" + llvm::Twine(i)).str()
                              : name.str());
    }
  }

  void index() {
    std::set<std::string> ops, attrs;
    std::map<std::string, std::set<std::string>> words;
    for (const std::string &seed : seeds) {
      std::vector<Token> toks = tokenize(seed);
      for (auto [i, t] : llvm::enumerate(toks)) {
        if (t.kind == TokKind::OpName)
          ops.insert(t.text);
        else if (t.kind == TokKind::AttrName)
          attrs.insert(t.text);
        else if (t.kind == TokKind::Ident)
          words[i ? toks[i - 1].text : ""].insert(t.text);
      }
    }
    opNames.assign(ops.begin(), ops.end());
    attrNames.assign(attrs.begin(), attrs.end());
    for (auto &[before, set] : words)
      keywordsAfter[before].assign(set.begin(), set.end());
  }
};

const std::vector<std::string> kBoundaryInts = {
    "0", "1", "-1", "2", "3", "4611686018427387904" /* 1 << 62 */,
    "9223372036854775807", "-9223372036854775808", "9223372036854775808",
    "2147483647", "2147483648", "4294967296", "65536"};

/// Indices of the tokens of `kind` (any non-comment token for nullopt).
std::vector<size_t> tokensOf(const std::vector<Token> &toks,
                             std::optional<TokKind> kind) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < toks.size(); ++i)
    if (kind ? toks[i].kind == *kind
             : toks[i].kind != TokKind::Comment && !toks[i].text.empty())
      idx.push_back(i);
  return idx;
}

/// One mutation of `text`, drawn from `rng`.
std::string mutate(const std::string &text, const Corpus &corpus, Rng &rng) {
  std::vector<Token> toks = tokenize(text);
  enum { Delete, Duplicate, Swap, Boundary, Nudge, ReplaceAll, OpName,
         AttrName, Keyword, Splice, NumMutations };
  // Most mutations keep the syntax (values, names, keywords): bad input
  // that gets past the parser is what reaches the passes.
  static const int weights[NumMutations] = {1, 1, 1, 3, 2, 5, 2, 2, 3, 1};
  int totalWeight = 0;
  for (int w : weights)
    totalWeight += w;
  for (int attempt = 0; attempt < 8; ++attempt) {
    int choice = 0;
    for (int r = rng.below(totalWeight); r >= weights[choice]; ++choice)
      r -= weights[choice];
    switch (choice) {
    case Delete: {
      auto any = tokensOf(toks, std::nullopt);
      if (any.empty())
        break;
      toks.erase(toks.begin() + rng.pick(any));
      return render(toks);
    }
    case Duplicate: {
      auto any = tokensOf(toks, std::nullopt);
      if (any.empty())
        break;
      size_t i = rng.pick(any);
      Token copy = toks[i];
      copy.space = " ";
      toks.insert(toks.begin() + i + 1, copy);
      return render(toks);
    }
    case Swap: {
      auto any = tokensOf(toks, std::nullopt);
      if (any.size() < 2)
        break;
      std::swap(toks[rng.pick(any)].text, toks[rng.pick(any)].text);
      return render(toks);
    }
    case Boundary: {
      auto ints = tokensOf(toks, TokKind::Int);
      if (ints.empty())
        break;
      toks[rng.pick(ints)].text = rng.pick(kBoundaryInts);
      return render(toks);
    }
    case Nudge: { // off by one, doubled, halved: shapes that almost agree
      auto ints = tokensOf(toks, TokKind::Int);
      if (ints.empty())
        break;
      Token &t = toks[rng.pick(ints)];
      long long v = 0;
      if (llvm::StringRef(t.text).getAsInteger(0, v))
        break;
      static const long long deltas[] = {1, -1};
      // (Checked: the token may already be INT64_MAX or INT64_MIN.)
      switch (rng.below(3)) {
      case 0:
        v = llvm::checkedAdd(v, deltas[rng.below(2)]).value_or(v);
        break;
      case 1:
        v = llvm::checkedMul(v, 2LL).value_or(v);
        break;
      default:
        v /= 2;
      }
      t.text = std::to_string(v);
      return render(toks);
    }
    case ReplaceAll: { // every occurrence of a number: types stay equal
      auto ints = tokensOf(toks, TokKind::Int);
      if (ints.empty())
        break;
      std::string from = toks[rng.pick(ints)].text;
      long long v = 0;
      (void)llvm::StringRef(from).getAsInteger(0, v);
      std::string to =
          rng.below(3)
              ? std::to_string(
                    llvm::checkedAdd(v, 1 + (long long)rng.below(8)).value_or(v))
              : rng.pick(kBoundaryInts);
      for (size_t i : ints)
        if (toks[i].text == from)
          toks[i].text = to;
      return render(toks);
    }
    case OpName:
    case AttrName: {
      bool op = choice == OpName;
      const std::vector<std::string> &dict =
          op ? corpus.opNames : corpus.attrNames;
      auto idx = tokensOf(toks, op ? TokKind::OpName : TokKind::AttrName);
      if (idx.empty() || dict.empty())
        break;
      toks[rng.pick(idx)].text = rng.pick(dict);
      return render(toks);
    }
    case Keyword: { // another word seen after the same token
      auto idx = tokensOf(toks, TokKind::Ident);
      if (idx.empty())
        break;
      size_t i = rng.pick(idx);
      auto it = corpus.keywordsAfter.find(i ? toks[i - 1].text : "");
      if (it == corpus.keywordsAfter.end())
        break;
      toks[i].text = rng.pick(it->second);
      return render(toks);
    }
    case Splice: { // 1 to 4 lines of another seed, inserted or replacing
      llvm::SmallVector<llvm::StringRef> lines, other;
      llvm::StringRef(text).split(lines, '\n');
      llvm::StringRef(corpus.seeds[rng.below(corpus.seeds.size())])
          .split(other, '\n');
      size_t count = 1 + rng.below(4);
      size_t from = rng.below(other.size());
      size_t at = rng.below(lines.size() + 1);
      bool replace = rng.below(2) && at < lines.size();
      std::string out;
      for (size_t l = 0; l <= lines.size(); ++l) {
        if (l == at)
          for (size_t k = from; k < std::min(other.size(), from + count); ++k)
            out += other[k].str() + "\n";
        if (l < lines.size() && !(replace && l == at))
          out += lines[l].str() + (l + 1 < lines.size() ? "\n" : "");
      }
      return out;
    }
    }
  }
  return render(toks);
}

/// Case `index` of `seed`: a seed input and 1 to --max-mutations mutations,
/// and the configuration it runs with.
struct Case {
  uint64_t index;
  size_t seedIndex;
  std::string input;
  ios::ProgramKind kind;
  ios::IOSScheduleOptions schedule;
};

Case makeCase(const Corpus &corpus, uint64_t seed, uint64_t index) {
  Rng rng(seed * 0x2545f4914f6cdd1dULL ^ (index + 1) * 0x9e3779b97f4a7c15ULL);
  rng.next();
  Case c;
  c.index = index;
  // Mostly seeds that verify: mutants of those get past the parser to the
  // passes more often than mutants of the tests' invalid inputs.
  c.seedIndex = corpus.validSeeds.empty() || rng.below(4) == 0
                    ? rng.below(corpus.seeds.size())
                    : rng.pick(corpus.validSeeds);
  c.input = corpus.seeds[c.seedIndex];
  // Half the cases one mutation: each further one is another chance to
  // stop at the parser.
  size_t mutations =
      rng.below(2) ? 1 : 1 + rng.below(std::max(1u, optMaxMutations.getValue()));
  for (size_t m = 0; m < mutations; ++m)
    c.input = mutate(c.input, corpus, rng);
  static const ios::ProgramKind kinds[] = {
      ios::ProgramKind::Cpp, ios::ProgramKind::Cpp, ios::ProgramKind::Cuda,
      ios::ProgramKind::Header};
  c.kind = kinds[rng.below(4)];
  // Small budgets: each case must stay fast; the search's corners (one
  // unit per group, a tiny state budget, chain units) are cases too.
  static const ios::ScheduleStrategy strategies[] = {
      ios::ScheduleStrategy::both, ios::ScheduleStrategy::both,
      ios::ScheduleStrategy::concurrent, ios::ScheduleStrategy::merge,
      ios::ScheduleStrategy::sequential, ios::ScheduleStrategy::greedy};
  ios::IOSScheduleOptions &o = c.schedule;
  o.strategy = strategies[rng.below(6)];
  o.enumeration =
      rng.below(4) ? ios::Enumeration::ios : ios::Enumeration::full;
  o.units = rng.below(4) ? ios::UnitMode::op : ios::UnitMode::chain;
  o.maxGroupSize = 1 + rng.below(3);
  o.maxGroups = 1 + rng.below(8);
  o.maxPartSize = 4 + rng.below(20);
  o.stateBudget = 50 + rng.below(2000);
  static const char *devices[] = {"v100", "a100", "h100"};
  o.device = devices[rng.below(3)];
  o.profiler = "analytic";
  return c;
}

/// The commands that run a case's configuration by hand.
std::string describe(const Case &c) {
  const ios::IOSScheduleOptions &o = c.schedule;
  return llvm::formatv(
             "ios-opt --ios-schedule='strategy={0} enumeration={1} units={2} "
             "max-group-size={3} max-groups={4} max-part-size={5} "
             "state-budget={6} device={7}' | ios-translate --ios-to-{8}",
             ios::stringifyScheduleStrategy(o.strategy),
             ios::stringifyEnumeration(o.enumeration),
             ios::stringifyUnitMode(o.units), o.maxGroupSize, o.maxGroups,
             o.maxPartSize, o.stateBudget, o.device,
             c.kind == ios::ProgramKind::Cpp    ? "cpp"
             : c.kind == ios::ProgramKind::Cuda ? "cuda"
                                                : "cpp-header")
      .str();
}

//===----------------------------------------------------------------------===//
// Running a case in a child
//===----------------------------------------------------------------------===//

enum Stage : int { Start, Parse, Verify, Schedule, Lower, Emit, Done,
                   NumStages };
const char *const kStageNames[] = {"start", "parse", "verify", "schedule",
                                   "lower", "emit",  "done"};

enum ExitCode : int { ExitOk = 0, ExitDiagnosed = 1, ExitInternal = 2,
                      ExitFatal = 3, ExitSanitizer = 4 };

constexpr int kMaxFrames = 48;

/// What a child tells the parent, in memory shared across the fork.
struct Report {
  volatile int stage;
  volatile int signal;
  volatile int numFrames;
  void *frames[kMaxFrames];
  char message[1024];
};

Report *currentReport = nullptr;

void crashHandler(int sig) {
  if (currentReport) {
    currentReport->signal = sig;
    currentReport->numFrames = backtrace(currentReport->frames, kMaxFrames);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void fatalHandler(void *, const char *reason, bool) {
  if (currentReport) {
    strncpy(currentReport->message, reason,
            sizeof(currentReport->message) - 1);
    currentReport->numFrames = backtrace(currentReport->frames, kMaxFrames);
  }
  _exit(ExitFatal);
}

#if IOS_FUZZ_SANITIZED
/// A sanitizer report ends the process with exit code 1 by default, which
/// would read as a diagnosed case.
void sanitizerDeath() {
  if (currentReport)
    currentReport->numFrames = backtrace(currentReport->frames, kMaxFrames);
  _exit(ExitSanitizer);
}
#endif

void installChildHandlers(Report *report) {
  currentReport = report;
#if IOS_FUZZ_SANITIZED
  __sanitizer_set_death_callback(sanitizerDeath);
#endif
  // Stack overflows (deep recursion) need a stack to report on.
  static char altStack[1 << 16];
  stack_t ss{};
  ss.ss_sp = altStack;
  ss.ss_size = sizeof(altStack);
  sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_handler = crashHandler;
  sa.sa_flags = SA_ONSTACK;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS})
    sigaction(sig, &sa, nullptr);
  llvm::install_fatal_error_handler(fatalHandler, nullptr);
#if !IOS_FUZZ_SANITIZED
  // (ASan reserves terabytes of shadow memory: an address-space limit
  // would fail every allocation; ASAN_OPTIONS=max_allocation_size_mb=N.)
  if (optMemoryMB) {
    rlim_t bytes = rlim_t(optMemoryMB) << 20;
    struct rlimit rl{bytes, bytes};
    setrlimit(RLIMIT_AS, &rl);
  }
#endif
  if (!optVerbose) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
  }
}

/// Whether `text` parses and verifies (in a child: the context stays
/// fresh for the cases).
bool verifiesInChild(MLIRContext &context, llvm::StringRef text) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBuffer(text, "seed", false), llvm::SMLoc());
    ScopedDiagnosticHandler handler(&context,
                                    [](Diagnostic &) { return success(); });
    _exit(parseSourceFile<ModuleOp>(sourceMgr, &context) ? 0 : 1);
  }
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

/// --inject: a failure of each kind the harness must classify. The null
/// store must fault, also in a build with UBSan (which would report it
/// and abort first).
[[gnu::noinline]] __attribute__((no_sanitize("undefined"))) void
injectFailure() {
  if (optInject == "segv")
    *static_cast<volatile int *>(nullptr) = 1;
  if (optInject == "abort")
    abort();
  if (optInject == "fatal")
    llvm::report_fatal_error("injected by ios-fuzz --inject=fatal");
  if (optInject == "hang")
    for (;;)
      pause();
}

/// The child's work; its exit code is the outcome.
int runCase(MLIRContext &context, const Case &c, Report &report) {
  // Diagnostics are the expected answer: counted, not printed.
  ScopedDiagnosticHandler handler(&context, [](Diagnostic &diag) {
    if (optVerbose)
      llvm::errs() << diag.getLocation() << ": " << diag << "\n";
    return success();
  });
  report.stage = Parse;
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(c.input, "case", false),
      llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(
      sourceMgr, ParserConfig(&context, /*verifyAfterParse=*/false));
  if (!module)
    return ExitDiagnosed;
  report.stage = Verify;
  if (failed(verify(*module)))
    return ExitDiagnosed;
  injectFailure();

  // Passes run without the pass manager's verifier so that invalid IR a
  // pass produces is told apart from a diagnosed input.
  auto runPasses = [&](llvm::function_ref<void(PassManager &)> build) {
    PassManager pm(&context);
    pm.enableVerifier(false);
    build(pm);
    if (failed(pm.run(*module)))
      return ExitDiagnosed;
    return failed(verify(*module)) ? ExitInternal : ExitOk;
  };
  bool scheduled = false;
  module->walk([&](ios::StageOp) {
    scheduled = true;
    return WalkResult::interrupt();
  });
  if (!scheduled) {
    report.stage = Schedule;
    if (int rc = runPasses([&](PassManager &pm) {
          pm.addPass(ios::createIOSSchedule(c.schedule));
        }))
      return rc;
  }
  report.stage = Lower;
  if (c.kind == ios::ProgramKind::Header)
    return failed(ios::translateToProgram(*module, llvm::nulls(), c.kind))
               ? ExitDiagnosed
               : ExitOk;
  if (int rc = runPasses([&](PassManager &pm) {
        ios::LowerToCppOptions options;
        options.target = c.kind == ios::ProgramKind::Cuda ? "cuda" : "cpu";
        ios::buildLowerToCppPipeline(pm, options);
      }))
    return rc;
  // The lowering accepted it: the emitter must print it.
  report.stage = Emit;
  if (failed(ios::translateToProgram(*module, llvm::nulls(), c.kind)))
    return ExitInternal;
  report.stage = Done;
  return ExitOk;
}

//===----------------------------------------------------------------------===//
// The driver
//===----------------------------------------------------------------------===//

enum class Outcome { Ok, Diagnosed, Internal, Crash, Hang };

struct Finding {
  std::string signature; // what makes two findings the same
  std::vector<std::string> frames; // symbolized, for the summary
  uint64_t firstCase = 0;
  std::string savedAs;
  unsigned count = 0;
};

std::string signalName(int sig) {
  switch (sig) {
  case SIGSEGV: return "SIGSEGV";
  case SIGBUS: return "SIGBUS";
  case SIGFPE: return "SIGFPE";
  case SIGILL: return "SIGILL";
  case SIGABRT: return "SIGABRT";
  case SIGTRAP: return "SIGTRAP";
  case SIGKILL: return "SIGKILL";
  default: return ("signal " + llvm::Twine(sig)).str();
  }
}

/// The frames of a report as module+offset, skipping the handler's own
/// (children are forks: addresses mean the same in the parent).
std::vector<std::pair<std::string, uint64_t>> moduleFrames(const Report &r) {
  std::vector<std::pair<std::string, uint64_t>> frames;
  // A sanitizer's death callback is called from inside its runtime: the
  // frames that matter start after its last one.
  int first = 0;
  for (int i = 0; i < r.numFrames && i < 16; ++i) {
    Dl_info info;
    if (dladdr(r.frames[i], &info) && info.dli_fname &&
        (llvm::StringRef(info.dli_fname).contains("libasan") ||
         llvm::StringRef(info.dli_fname).contains("libubsan")))
      first = i + 1;
  }
  bool inHandler = true;
  for (int i = first; i < r.numFrames; ++i) {
    Dl_info info;
    if (!dladdr(r.frames[i], &info) || !info.dli_fname)
      continue;
    llvm::StringRef file = info.dli_fname;
    // The handler, libc's signal trampoline, abort() and LLVM's error
    // reporting are the same for every crash.
    if (inHandler && (file.contains("libc.so") || file.contains("libLLVM") ||
                      file.contains("libasan") || file.contains("libubsan") ||
                      i == 0))
      continue;
    inHandler = false;
    // Return addresses point after the call: -1 is inside it.
    frames.push_back({file.str(), uint64_t(uintptr_t(r.frames[i])) -
                                      uint64_t(uintptr_t(info.dli_fbase)) -
                                      1});
  }
  return frames;
}

class Fuzzer {
public:
  Fuzzer(const Corpus &corpus, MLIRContext &context)
      : corpus(corpus), context(context) {}

  int run();

private:
  struct Slot {
    pid_t pid = 0;
    Case c;
    std::chrono::steady_clock::time_point deadline;
    bool killed = false;
    Report *report = nullptr;
  };

  void launch(Slot &slot, uint64_t index);
  void finish(Slot &slot, int status);
  void record(Outcome outcome, const Slot &slot, const std::string &what,
              const Report *report);
  void save(const Slot &slot, llvm::StringRef prefix,
            llvm::StringRef signature, std::string &savedAs);
  std::string symbolize(const std::string &module, uint64_t offset);

  const Corpus &corpus;
  MLIRContext &context;
  uint64_t counts[5] = {};
  uint64_t reached[NumStages] = {};
  std::map<std::string, Finding> findings; // by signature
  std::vector<std::string> findingOrder;
  llvm::symbolize::LLVMSymbolizer symbolizer;
};

void Fuzzer::launch(Slot &slot, uint64_t index) {
  slot.c = makeCase(corpus, optSeed, index);
  memset(slot.report, 0, sizeof(Report));
  slot.killed = false;
  slot.deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(optTimeoutMs);
  pid_t pid = fork();
  if (pid == 0) {
    installChildHandlers(slot.report);
    _exit(runCase(context, slot.c, *slot.report));
  }
  if (pid < 0) {
    llvm::WithColor::error(llvm::errs(), "ios-fuzz")
        << "fork failed: " << strerror(errno) << "\n";
    exit(2);
  }
  slot.pid = pid;
}

std::string Fuzzer::symbolize(const std::string &module, uint64_t offset) {
  auto info = symbolizer.symbolizeCode(
      module, {offset, llvm::object::SectionedAddress::UndefSection});
  if (info && info->FunctionName != llvm::DILineInfo::BadString) {
    std::string where = info->FunctionName;
    if (info->FileName != llvm::DILineInfo::BadString && info->Line)
      where += " (" + llvm::sys::path::filename(info->FileName).str() + ":" +
               std::to_string(info->Line) + ")";
    return where;
  }
  if (!info)
    llvm::consumeError(info.takeError());
  return (llvm::sys::path::filename(module) + "+" +
          llvm::utohexstr(offset, /*LowerCase=*/true))
      .str();
}

void Fuzzer::save(const Slot &slot, llvm::StringRef prefix,
                  llvm::StringRef signature, std::string &savedAs) {
  if (optOut.empty())
    return;
  llvm::SmallString<128> path(optOut);
  llvm::sys::path::append(path, llvm::formatv("{0}-s{1}-c{2}.mlir", prefix,
                                              optSeed.getValue(),
                                              slot.c.index)
                                    .str());
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    llvm::WithColor::error(llvm::errs(), "ios-fuzz")
        << "cannot write " << path << ": " << ec.message() << "\n";
    return;
  }
  // The first line says how to get it again; the rest is the input.
  os << "// ios-fuzz " << signature << " (--seed "
     << optSeed << " --first-case " << slot.c.index << " --cases 1, from "
     << corpus.seedNames[slot.c.seedIndex] << ")\n// " << describe(slot.c)
     << "\n"
     << slot.c.input;
  if (savedAs.empty())
    savedAs = path.str().str();
}

void Fuzzer::record(Outcome outcome, const Slot &slot,
                    const std::string &what, const Report *report) {
  ++counts[int(outcome)];
  if (outcome == Outcome::Ok || outcome == Outcome::Diagnosed)
    return;
  static const char *prefixes[] = {"", "", "internal", "crash", "hang"};
  const char *prefix = prefixes[int(outcome)];
  std::string signature =
      (llvm::Twine(prefix) + ": " + what + " in " + kStageNames[slot.report->stage])
          .str();
  std::vector<std::string> symbolized;
  if (report && report->numFrames) {
    // The top frames of the compiler's own code name the crash.
    auto frames = moduleFrames(*report);
    for (size_t i = 0; i < frames.size() && symbolized.size() < 6; ++i)
      symbolized.push_back(symbolize(frames[i].first, frames[i].second));
    for (size_t i = 0; i < symbolized.size() && i < 3; ++i)
      signature += (i ? " < " : " at ") + symbolized[i];
  }
  auto [it, inserted] = findings.try_emplace(signature);
  Finding &f = it->second;
  if (inserted) {
    f.signature = signature;
    f.frames = symbolized;
    f.firstCase = slot.c.index;
    findingOrder.push_back(signature);
  }
  ++f.count;
  save(slot, prefix, signature, f.savedAs);
}

void Fuzzer::finish(Slot &slot, int status) {
  Report *r = slot.report;
  reached[r->stage]++;
  if (slot.killed) {
    record(Outcome::Hang, slot,
           llvm::formatv("over {0} ms", optTimeoutMs.getValue()).str(),
           nullptr);
  } else if (WIFSIGNALED(status)) {
    record(Outcome::Crash, slot, signalName(WTERMSIG(status)), r);
  } else if (WIFEXITED(status)) {
    switch (WEXITSTATUS(status)) {
    case ExitOk:
      record(Outcome::Ok, slot, "", nullptr);
      break;
    case ExitDiagnosed:
      record(Outcome::Diagnosed, slot, "", nullptr);
      break;
    case ExitInternal:
      record(Outcome::Internal, slot,
             r->stage == Emit ? "the emitter rejected the lowered program"
                              : "invalid IR after the pass",
             nullptr);
      break;
    case ExitSanitizer:
      record(Outcome::Crash, slot, "sanitizer report", r);
      break;
    case ExitFatal:
    {
      // One line: the message may hold the printed op.
      std::string message = llvm::StringRef(r->message).take_front(120).str();
      llvm::replace(message, '\n', ' ');
      record(Outcome::Crash, slot, "LLVM ERROR " + message, r);
    }
      break;
    default:
      record(Outcome::Crash, slot,
             llvm::formatv("exit code {0}", WEXITSTATUS(status)).str(),
             nullptr);
    }
  }
  slot.pid = 0;
}

int Fuzzer::run() {
  unsigned jobs = std::max(1u, optJobs.getValue());
  void *shared = mmap(nullptr, sizeof(Report) * jobs, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    llvm::WithColor::error(llvm::errs(), "ios-fuzz")
        << "mmap failed: " << strerror(errno) << "\n";
    return 2;
  }
  std::vector<Slot> slots(jobs);
  for (unsigned j = 0; j < jobs; ++j)
    slots[j].report = static_cast<Report *>(shared) + j;
  // backtrace() loads its unwinder on first use: not in a signal handler.
  void *warm[1];
  backtrace(warm, 1);

  auto start = std::chrono::steady_clock::now();
  uint64_t next = optFirstCase, end = optFirstCase + optCases;
  unsigned running = 0;
  for (Slot &slot : slots)
    if (next < end) {
      launch(slot, next++);
      ++running;
    }
  while (running) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (Slot &slot : slots) {
        if (slot.pid != pid)
          continue;
        finish(slot, status);
        --running;
        uint64_t done = counts[0] + counts[1] + counts[2] + counts[3] +
                        counts[4];
        if (optProgress && done % optProgress == 0)
          llvm::errs() << llvm::formatv(
              "ios-fuzz: {0} cases: {1} ok, {2} diagnosed, {3} internal, {4} "
              "crashes, {5} hangs\n",
              done, counts[0], counts[1], counts[2], counts[3], counts[4]);
        if (next < end) {
          launch(slot, next++);
          ++running;
        }
      }
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    for (Slot &slot : slots)
      if (slot.pid && !slot.killed && now > slot.deadline) {
        kill(slot.pid, SIGKILL);
        slot.killed = true;
      }
    usleep(200);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  uint64_t total = optCases;
  llvm::outs() << llvm::formatv(
      "ios-fuzz: seed {0}, cases {1}..{2}, {3} seed inputs from {4} files ({5} valid), "
      "{6} job(s), timeout {7} ms\n",
      optSeed.getValue(), optFirstCase.getValue(), end - 1,
      corpus.seeds.size(), corpus.files, corpus.validSeeds.size(), jobs,
      optTimeoutMs.getValue());
  auto row = [&](llvm::StringRef name, const llvm::Twine &value) {
    llvm::outs() << llvm::formatv("  {0,-26} {1}\n", name, value.str());
  };
  row("cases", llvm::Twine(total));
  row("ok", llvm::Twine(counts[int(Outcome::Ok)]));
  row("diagnosed", llvm::Twine(counts[int(Outcome::Diagnosed)]));
  row("internal errors", llvm::Twine(counts[int(Outcome::Internal)]));
  row("crashes", llvm::Twine(counts[int(Outcome::Crash)]));
  row("hangs", llvm::Twine(counts[int(Outcome::Hang)]));
  size_t uniqueCrashes = llvm::count_if(findingOrder, [](llvm::StringRef s) {
    return s.starts_with("crash");
  });
  row("unique crash signatures", llvm::Twine(uniqueCrashes));
  // How deep the cases got: the last stage each one entered.
  row("ended in parse", llvm::Twine(reached[Parse]));
  row("ended in verify", llvm::Twine(reached[Verify]));
  row("ended in schedule", llvm::Twine(reached[Schedule]));
  row("ended in lower", llvm::Twine(reached[Lower]));
  row("ended in emit", llvm::Twine(reached[Emit]));
  row("emitted a program", llvm::Twine(reached[Done]));
  row("seconds", llvm::formatv("{0:f1}", seconds));
  row("cases/s", llvm::formatv("{0:f1}", total / std::max(seconds, 1e-9)));
  for (const std::string &signature : findingOrder) {
    const Finding &f = findings[signature];
    llvm::outs() << llvm::formatv("{0} x{1}, first case {2}{3}\n", signature,
                                  f.count, f.firstCase,
                                  f.savedAs.empty() ? ""
                                                    : ", saved as " + f.savedAs);
    for (const std::string &frame : f.frames)
      llvm::outs() << "    " << frame << "\n";
  }
  return findingOrder.empty() ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  ios::hideLibraryOptions({"cases", "seed", "first-case", "timeout-ms", "jobs",
                           "max-mutations", "memory-mb", "out", "print",
                           "progress", "verbose"});
  cl::ParseCommandLineOptions(
      argc, argv,
      "IOS mutation fuzzer: parse, verify, --ios-schedule, ios-lower-to-cpp "
      "and emit mutated seeds, each case in a forked child\n");
  auto fail = [](const llvm::Twine &message) {
    llvm::WithColor::error(llvm::errs(), "ios-fuzz") << message << "\n";
    return 2;
  };
  if (optCases == 0)
    return fail("--cases must be at least 1");
  if (optTimeoutMs == 0)
    return fail("--timeout-ms must be at least 1");
  if (optJobs == 0 || optJobs > 256)
    return fail("--jobs must be in [1, 256]");
  if (!llvm::is_contained({"", "segv", "abort", "fatal", "hang"},
                          optInject.getValue()))
    return fail("--inject must be segv, abort, fatal or hang");
  if (optMaxMutations == 0)
    return fail("--max-mutations must be at least 1");
  if (optFirstCase + optCases < optFirstCase)
    return fail("--first-case + --cases overflows");

  // Seeds in a fixed order: the same cases whatever the file system lists.
  std::vector<std::string> files;
  for (const std::string &input : optInputs) {
    if (!llvm::sys::fs::is_directory(input)) {
      files.push_back(input);
      continue;
    }
    std::error_code ec;
    for (llvm::sys::fs::recursive_directory_iterator it(input, ec), e;
         it != e && !ec; it.increment(ec))
      if (llvm::StringRef(it->path()).ends_with(".mlir"))
        files.push_back(it->path());
    if (ec)
      return fail("cannot list " + input + ": " + ec.message());
  }
  llvm::sort(files);
  Corpus corpus;
  for (const std::string &file : files) {
    auto buffer = llvm::MemoryBuffer::getFile(file);
    if (!buffer)
      return fail("cannot read " + file + ": " + buffer.getError().message());
    corpus.add(file, (*buffer)->getBuffer());
  }
  if (corpus.seeds.empty())
    return fail("no seed inputs (give .mlir files or directories with them)");
  corpus.index();

  // One context for every case, forked with the dialects loaded: each
  // child starts from the same fresh state, without paying for the
  // dialects' registration per case.
  DialectRegistry registry;
  ios::registerAllDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  context.printOpOnDiagnostic(false);
  context.printStackTraceOnDiagnostic(false);
  llvm::outs().flush();
  for (auto [i, seed] : llvm::enumerate(corpus.seeds))
    if (verifiesInChild(context, seed))
      corpus.validSeeds.push_back(i);

  if (optPrint) {
    for (uint64_t i = optFirstCase; i < optFirstCase + optCases; ++i) {
      Case c = makeCase(corpus, optSeed, i);
      llvm::outs() << "// case " << i << " (from "
                   << corpus.seedNames[c.seedIndex] << "): "
                   << describe(c) << "\n"
                   << c.input << "\n// -----\n";
    }
    return 0;
  }
  if (!optOut.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(optOut))
      return fail("cannot create " + optOut + ": " + ec.message());
  return Fuzzer(corpus, context).run();
}
