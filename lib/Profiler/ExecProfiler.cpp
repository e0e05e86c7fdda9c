//===- ExecProfiler.cpp - Stage costs from an external process ------------===//

#include "ios/Profiler/ExecProfiler.h"

#include "llvm/Support/FormatVariadic.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace ios;
using namespace ios::prof;
using llvm::Expected;

namespace {

/// Waits up to `seconds` for child `pid` to exit and reaps it; true if it
/// did.
bool reapWithin(int pid, double seconds, int *status = nullptr) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration<double>(seconds);
  while (true) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD))
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    usleep(5000);
  }
}

/// Waits up to `seconds` for process group `group` to be empty.
bool groupGoneWithin(int group, double seconds) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration<double>(seconds);
  while (kill(-group, 0) == 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    usleep(5000);
  }
  return true;
}

/// How long a server gets to exit after EOF, and after SIGTERM.
constexpr double kGraceSeconds = 0.5;

} // namespace

Expected<std::unique_ptr<Profiler>>
ExecProfiler::start(llvm::StringRef command, double timeoutSeconds,
                    llvm::StringRef device, llvm::StringRef name,
                    llvm::StringRef target, unsigned window, bool programs,
                    bool parallel) {
  if (!(timeoutSeconds > 0)) // also NaN
    return llvm::createStringError(llvm::formatv(
        "exec-timeout must be a positive number of seconds (or inf: no "
        "timeout), got {0}",
        timeoutSeconds));
  // A server that dies must become an error message, not a SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0)
    return llvm::createStringError(std::string("cannot create pipes: ") +
                                   std::strerror(errno));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    return llvm::createStringError(std::string("cannot fork: ") +
                                   std::strerror(errno));
  if (pid == 0) {
    // A process group of its own: stop() ends the server and everything it
    // started, and a terminal's Ctrl-C goes to ios-opt only. If ios-opt dies
    // without stop() (a signal), the server hears it by SIGTERM, and by EOF
    // on stdin.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
      _exit(127);
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    std::string cmd = command.str();
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid); // also here: no race with a stop() right after start
  close(in[0]);
  close(out[1]);
  fcntl(in[1], F_SETFD, FD_CLOEXEC);
  fcntl(out[0], F_SETFD, FD_CLOEXEC);
  auto p = std::unique_ptr<ExecProfiler>(new ExecProfiler());
  p->command = command.str();
  p->device = device.str();
  p->name = name.str();
  p->target = target.str();
  p->timeoutSeconds = timeoutSeconds;
  p->window = std::max(1u, window);
  p->programs = programs;
  p->parallel = parallel;
  p->pid = pid;
  p->group = pid;
  p->toChild = in[1];
  p->fromChild = out[0];
  return std::unique_ptr<Profiler>(std::move(p));
}

ExecProfiler::~ExecProfiler() { stop(/*graceful=*/true); }

void ExecProfiler::stop(bool graceful) {
  if (toChild >= 0)
    close(toChild); // EOF tells the server to finish
  if (fromChild >= 0)
    close(fromChild);
  toChild = fromChild = -1;
  if (pid > 0) {
    if (!graceful || !reapWithin(pid, kGraceSeconds)) {
      kill(-group, SIGTERM);
      if (!reapWithin(pid, kGraceSeconds)) {
        kill(-group, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
    pid = -1;
  }
  // The leader is reaped; what it started may still run. The group's id
  // cannot be reused while any member is alive, so this reaches only them.
  if (group > 0) {
    if (kill(-group, SIGTERM) == 0 && !groupGoneWithin(group, kGraceSeconds))
      kill(-group, SIGKILL);
    group = -1;
  }
}

llvm::Error ExecProfiler::exited() {
  int status = 0;
  std::string how = "closed its output";
  // It closed its end of a pipe: it has exited or is about to. Wait a
  // little for its status, never forever.
  if (pid > 0 && reapWithin(pid, 2.0, &status)) {
    pid = -1;
    if (WIFEXITED(status))
      how = llvm::formatv("exited with status {0}", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
      how = llvm::formatv("was killed by signal {0}", WTERMSIG(status));
  }
  return fail(how + " before answering");
}

llvm::Error ExecProfiler::fail(const llvm::Twine &why) {
  dead = true;
  stop(/*graceful=*/false); // the search stops: so does the server
  std::string who = name.empty() ? "cost server '" + command + "'"
                                 : "profiler '" + name + "'";
  return llvm::createStringError(who + " " + why.str());
}

Expected<std::string> ExecProfiler::readLine(size_t stages,
                                             llvm::StringRef what) {
  double seconds = timeoutSeconds * double(stages);
  bool forever = seconds >= kNoTimeoutSeconds; // also inf
  auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(forever ? 0 : seconds));
  while (true) {
    size_t nl = pending.find('\n');
    if (nl != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (!forever && left <= 0)
      return fail(
          stages == 1
              ? llvm::formatv("did not answer within {0} s", timeoutSeconds)
                    .str()
              : llvm::formatv("did not answer a request of {0} "
                              "{3}s within {1} s ({2} s per {3})",
                              stages, seconds, timeoutSeconds, what)
                    .str());
    pollfd pfd{fromChild, POLLIN, 0};
    int ready =
        poll(&pfd, 1, forever ? -1 : int(std::min<long long>(left, 1 << 30)));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready == 0)
      continue;
    char buf[4096];
    ssize_t n = read(fromChild, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return exited();
    pending.append(buf, size_t(n));
  }
}

unsigned ExecProfiler::batchSize() const {
  unsigned server = serverBatch;
  return server < 2 ? 1 : std::min(window, server);
}

Expected<std::pair<llvm::json::Object, std::string>>
ExecProfiler::roundTrip(const sched::Graph &g,
                        llvm::ArrayRef<sched::Stage> stages) {
  if (dead)
    return fail("is no longer usable after an earlier failure");
  // Written as text: requests carry thousands of ops. The stages first:
  // they decide which ops are new to the session.
  stagesText.clear();
  texts.fresh.clear();
  llvm::raw_string_ostream stagesOs(stagesText);
  for (auto [i, stage] : llvm::enumerate(stages)) {
    if (i)
      stagesOs << ",";
    if (llvm::Error e = writeStageJSON(stagesOs, g, stage, texts))
      return std::move(e);
  }
  llvm::raw_string_ostream os(beginRequest());
  if (!texts.fresh.empty())
    os << ",\"ops\":[" << texts.fresh << "]";
  if (stages.size() == 1)
    os << ",\"stage\":" << stagesText << "}\n";
  else
    os << ",\"stages\":[" << stagesText << "]}\n";
  return exchange(stages.size(), "stage");
}

std::string &ExecProfiler::beginRequest() {
  line.clear();
  llvm::raw_string_ostream(line)
      << "{\"device\":" << llvm::json::Value(device) << ",\"id\":" << nextId;
  return line;
}

Expected<std::pair<llvm::json::Object, std::string>>
ExecProfiler::exchange(size_t items, llvm::StringRef what) {
  uint64_t id = nextId;
  ++nextId;
  for (size_t done = 0; done < line.size();) {
    ssize_t n = write(toChild, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return exited(); // the only way a pipe write fails: no reader left
    done += size_t(n);
  }
  Expected<std::string> reply = readLine(items, what);
  if (!reply)
    return reply.takeError();
  Expected<llvm::json::Value> json = llvm::json::parse(*reply);
  std::string shown = reply->substr(0, 200);
  if (!json)
    return fail("answered garbage '" + shown +
                "': " + llvm::toString(json.takeError()));
  llvm::json::Object *o = json->getAsObject();
  if (!o)
    return fail("answered '" + shown + "', expected a JSON object");
  std::optional<int64_t> replyId = o->getInteger("id");
  if (!replyId || uint64_t(*replyId) != id)
    return fail(llvm::formatv("answered '{0}' to request {1}: wrong or "
                              "missing \"id\"",
                              shown, id));
  if (std::optional<llvm::StringRef> error = o->getString("error"))
    return fail("reported an error: " + *error);
  if (serverBatch == 0) {
    // The first reply says whether the server takes batches.
    serverBatch = 1;
    if (const llvm::json::Value *mb = o->get("max_batch")) {
      std::optional<int64_t> n = mb->getAsInteger();
      if (!n || *n < 1)
        return fail("answered '" + shown +
                    "': \"max_batch\" must be a positive integer");
      serverBatch = unsigned(std::min<int64_t>(*n, 1 << 30));
    }
    for (auto [key, flag] :
         {std::pair<llvm::StringRef, bool *>{"op_refs", &texts.refs},
          {"programs", &programs}})
      if (const llvm::json::Value *v = o->get(key)) {
        std::optional<bool> on = v->getAsBoolean();
        if (!on)
          return fail("answered '" + shown + "': \"" + key +
                      "\" must be a boolean");
        *flag = *flag || *on;
      }
  }
  return std::make_pair(std::move(*o), std::move(shown));
}

Expected<double> ExecProfiler::measure(const sched::Graph &g,
                                       const sched::Stage &stage) {
  std::lock_guard<std::mutex> lock(mutex);
  return measureLocked(g, stage);
}

Expected<double> ExecProfiler::measureLocked(const sched::Graph &g,
                                             const sched::Stage &stage) {
  auto reply = roundTrip(g, stage);
  if (!reply)
    return reply.takeError();
  std::optional<double> ms = reply->first.getNumber("latency_ms");
  if (!ms || !std::isfinite(*ms) || *ms < 0)
    return fail("answered '" + reply->second +
                "': \"latency_ms\" must be a non-negative number");
  return *ms;
}

llvm::Error ExecProfiler::measureBatch(const sched::Graph &g,
                                       llvm::ArrayRef<sched::Stage> stages,
                                       std::vector<double> &out) {
  std::lock_guard<std::mutex> lock(mutex);
  for (size_t done = 0; done < stages.size();) {
    llvm::ArrayRef<sched::Stage> rest = stages.drop_front(done);
    // Before the first reply, and for servers without batches: one stage.
    size_t n = serverBatch == 0 ? 1 : std::min<size_t>(batchSize(), rest.size());
    if (n == 1) {
      Expected<double> ms = measureLocked(g, rest.front());
      if (!ms)
        return ms.takeError();
      out.push_back(*ms);
      ++done;
      continue;
    }
    auto reply = roundTrip(g, rest.take_front(n));
    if (!reply)
      return reply.takeError();
    const llvm::json::Array *list = reply->first.getArray("latencies_ms");
    if (!list || list->size() != n)
      return fail(llvm::formatv(
          "answered '{0}' to a request of {1} stages: \"latencies_ms\" must "
          "list {1} latencies{2}",
          reply->second, n,
          list ? llvm::formatv(", got {0}", list->size()).str() : ""));
    for (auto [i, v] : llvm::enumerate(*list)) {
      std::optional<double> ms = v.getAsNumber();
      if (!ms || !std::isfinite(*ms) || *ms < 0)
        return fail(llvm::formatv("answered '{0}': \"latencies_ms\"[{1}] "
                                  "must be a non-negative number",
                                  reply->second, i));
      out.push_back(*ms);
    }
    done += n;
  }
  return llvm::Error::success();
}

Expected<std::optional<std::vector<double>>>
ExecProfiler::timePrograms(int64_t batch, llvm::ArrayRef<std::string> modules) {
  std::lock_guard<std::mutex> lock(mutex);
  if (!programs)
    return std::nullopt;
  if (dead)
    return fail("is no longer usable after an earlier failure");
  llvm::raw_string_ostream os(beginRequest());
  os << ",\"programs\":[";
  for (auto [i, text] : llvm::enumerate(modules))
    os << (i ? "," : "") << llvm::json::Value(text);
  os << "]}\n";
  auto reply = exchange(modules.size(), "program");
  if (!reply)
    return reply.takeError();
  std::vector<double> out;
  const llvm::json::Array *list = reply->first.getArray("latencies_ms");
  if (list && list->size() == modules.size())
    for (const llvm::json::Value &v : *list)
      if (std::optional<double> ms = v.getAsNumber();
          ms && std::isfinite(*ms) && *ms >= 0)
        out.push_back(*ms);
  if (out.size() != modules.size())
    return fail(llvm::formatv("answered '{0}' to a request of {1} programs: "
                              "\"latencies_ms\" must list {1} non-negative "
                              "latencies",
                              reply->second, modules.size()));
  return std::optional<std::vector<double>>(std::move(out));
}
