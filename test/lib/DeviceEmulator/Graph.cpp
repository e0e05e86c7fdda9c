//===- Graph.cpp - Stream capture and CUDA graphs on the emulated device --===//
//
// cudaStreamBeginCapture turns a stream's operations into nodes of a graph
// instead of running them; a stream joins the capture by waiting on an
// event recorded inside it, and must be joined back into the origin stream
// before cudaStreamEndCapture ("cudaErrorStreamCaptureUnjoined" otherwise).
// Inside the capture, ordering is the record/wait edges: the capture keeps
// vector clocks over its own streams to check the joins. Operations a
// capture prohibits (synchronizing a capturing stream or the device, the
// legacy stream, stream-ordered allocation) invalidate it, as on a GPU
// (CUDA 13 runtime API: cudaStreamBeginCapture, "Stream Capture").
//
// A launched graph replays its nodes in capture order on streams of its own
// (one per captured stream), each ordered after the launching stream's
// earlier work, with the captured edges between them; the launching
// stream's later work comes after all of them. Every node is checked for
// races and memory like an eager operation, and reports name the call that
// was captured.
//
//===----------------------------------------------------------------------===//

#include "Device.h"

#include <algorithm>

using namespace ios::emu;

Graph::Node &Device::addNode(Stream *s, Graph::Node::Kind kind,
                             uint64_t call) {
  Capture &c = *s->capture;
  auto local = std::find(c.streams.begin(), c.streams.end(), s);
  int l = int(local - c.streams.begin());
  c.clocks[size_t(l)].tick(size_t(l));
  Graph::Node n;
  n.kind = kind;
  n.stream = l;
  n.call = call;
  c.graph->nodes.push_back(std::move(n));
  return c.graph->nodes.back();
}

std::string Device::beginCapture(Stream *s) {
  if (s == &legacyStream)
    return "the legacy default stream cannot be captured";
  if (s->capture)
    return s->name() + " is already being captured";
  auto c = std::make_unique<Capture>();
  c->graph = std::make_shared<Graph>();
  c->origin = s;
  c->streams = {s};
  c->clocks.resize(1);
  s->capture = c.get();
  captures.push_back(std::move(c));
  return {};
}

void Device::invalidateCaptures(const std::string &why) {
  for (auto &c : captures)
    if (c->invalid.empty())
      c->invalid = why;
}

void Device::captureRecord(Event *e, Stream *s, uint64_t call) {
  Capture &c = *s->capture;
  Graph::Node &n = addNode(s, Graph::Node::Record, call);
  n.slot = c.graph->slots++;
  c.slotClocks.push_back(c.clocks[size_t(n.stream)]);
  e->capture = &c;
  e->slot = n.slot;
}

std::string Device::captureWait(Stream *s, Event *e, uint64_t call) {
  if (!e->capture)
    return "the event was not recorded in the capture " + s->name() +
           " belongs to (a capture may only wait on its own events)";
  Capture &c = *e->capture;
  if (s->capture && s->capture != &c)
    return s->name() + " belongs to another capture";
  if (!s->capture) { // joins the capture
    s->capture = &c;
    c.streams.push_back(s);
    c.clocks.emplace_back();
  }
  Graph::Node &n = addNode(s, Graph::Node::Wait, call);
  n.slot = e->slot;
  c.clocks[size_t(n.stream)].join(c.slotClocks[size_t(e->slot)]);
  return {};
}

std::shared_ptr<Graph> Device::endCapture(Stream *s, std::string &why) {
  auto it = std::find_if(captures.begin(), captures.end(),
                         [&](auto &c) { return c->origin == s; });
  if (it == captures.end()) {
    why = s->name() + " is not the origin of a capture";
    return nullptr;
  }
  std::unique_ptr<Capture> c = std::move(*it);
  captures.erase(it);
  for (Stream *t : c->streams)
    t->capture = nullptr;
  for (auto &e : events)
    if (e->capture == c.get()) {
      e->capture = nullptr;
      e->slot = -1;
    }
  why = c->invalid;
  // Every stream that joined must be joined back into the origin.
  for (size_t l = 1; why.empty() && l < c->streams.size(); ++l)
    if (c->clocks[0].at(l) < c->clocks[l].at(l))
      why = c->streams[l]->name() +
            " was not joined back into the origin stream "
            "(cudaErrorStreamCaptureUnjoined)";
  if (!why.empty())
    return nullptr;
  c->graph->streams = int(c->streams.size());
  c->graph->number = int(graphs.size()) + 1;
  return c->graph;
}

cudaGraph_t Device::keepGraph(std::shared_ptr<Graph> g) {
  graphs.push_back(g);
  return reinterpret_cast<cudaGraph_t>(g.get());
}

Graph *Device::graphOf(cudaGraph_t g) {
  for (auto &p : graphs)
    if (reinterpret_cast<cudaGraph_t>(p.get()) == g && !p->destroyed)
      return p.get();
  return nullptr;
}

GraphExec *Device::instantiate(Graph *g) {
  auto exec = std::make_unique<GraphExec>();
  for (auto &p : graphs)
    if (p.get() == g)
      exec->graph = p;
  for (int l = 0; l < g->streams; ++l) {
    Stream *s = createStream(true);
    s->label = "graph " + std::to_string(g->number) + " (instance " +
               std::to_string(execs.size() + 1) + ")'s stream " +
               std::to_string(l);
    exec->streams.push_back(s);
  }
  execs.push_back(std::move(exec));
  return execs.back().get();
}

GraphExec *Device::execOf(cudaGraphExec_t e) {
  for (auto &p : execs)
    if (reinterpret_cast<cudaGraphExec_t>(p.get()) == e && !p->destroyed)
      return p.get();
  return nullptr;
}

bool Device::launchGraph(GraphExec *exec, Stream *s, uint64_t call,
                         Op &summary) {
  // The launch: after the work on `s` (and what the host knows).
  enqueue(summary, s, call);
  for (Stream *v : exec->streams)
    v->vc.join(summary.vc);
  std::vector<VectorClock> slots(size_t(exec->graph->slots));
  bool good = true;
  for (const Graph::Node &n : exec->graph->nodes) {
    Stream *v = exec->streams[size_t(n.stream)];
    switch (n.kind) {
    case Graph::Node::Work: {
      Op op;
      op.accesses = n.accesses;
      op.flops = n.flops;
      summary.flops += n.flops;
      enqueue(op, v, n.call);
      summary.accesses.insert(summary.accesses.end(), op.accesses.begin(),
                              op.accesses.end());
      if (execute(op))
        n.work();
      else
        good = false;
      break;
    }
    case Graph::Node::Record: {
      Op op;
      enqueue(op, v, n.call);
      slots[size_t(n.slot)] = op.vc;
      break;
    }
    case Graph::Node::Wait:
      v->vc.join(slots[size_t(n.slot)]);
      break;
    }
  }
  // Later work on `s` comes after every node.
  for (Stream *v : exec->streams)
    s->vc.join(v->vc);
  return good;
}

//===----------------------------------------------------------------------===//
// The graph entry points
//===----------------------------------------------------------------------===//

namespace {
cudaError_t done(Call &c, cudaError_t e) {
  c.setStatus(int(e));
  return Device::get().fail(e);
}
} // namespace

extern "C" {

cudaError_t cudaStreamBeginCapture(cudaStream_t stream,
                                   cudaStreamCaptureMode mode) {
  Device &d = Device::get();
  Call c("cudaStreamBeginCapture");
  Stream *s = d.stream(stream, "cudaStreamBeginCapture");
  if (!s)
    return done(c, cudaErrorInvalidResourceHandle);
  c.setStream(s);
  if (mode != cudaStreamCaptureModeGlobal &&
      mode != cudaStreamCaptureModeThreadLocal &&
      mode != cudaStreamCaptureModeRelaxed)
    return done(c, cudaErrorInvalidValue);
  if (std::string why = d.beginCapture(s); !why.empty()) {
    d.report("api", d.describeCall(c.seq()) + ": " + why);
    return done(c, cudaErrorIllegalState);
  }
  return done(c, cudaSuccess);
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t *pGraph) {
  Device &d = Device::get();
  Call c("cudaStreamEndCapture");
  Stream *s = d.stream(stream, "cudaStreamEndCapture");
  if (!s)
    return done(c, cudaErrorInvalidResourceHandle);
  c.setStream(s);
  if (!pGraph)
    return done(c, cudaErrorInvalidValue);
  *pGraph = nullptr;
  bool wasCapturing = s->capture != nullptr;
  std::string why;
  std::shared_ptr<Graph> g = d.endCapture(s, why);
  if (!g) {
    d.report("api", d.describeCall(c.seq()) + ": " + why);
    return done(c, !wasCapturing ? cudaErrorIllegalState
                   : why.find("Unjoined") != std::string::npos
                       ? cudaErrorStreamCaptureUnjoined
                       : cudaErrorStreamCaptureInvalidated);
  }
  *pGraph = d.keepGraph(g);
  return done(c, cudaSuccess);
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream,
                                  cudaStreamCaptureStatus *status) {
  Device &d = Device::get();
  Call c("cudaStreamIsCapturing");
  Stream *s = d.stream(stream, "cudaStreamIsCapturing");
  if (!s)
    return done(c, cudaErrorInvalidResourceHandle);
  if (!status)
    return done(c, cudaErrorInvalidValue);
  *status = !s->capture                  ? cudaStreamCaptureStatusNone
            : s->capture->invalid.empty() ? cudaStreamCaptureStatusActive
                                          : cudaStreamCaptureStatusInvalidated;
  return done(c, cudaSuccess);
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *pGraphExec,
                                 cudaGraph_t graph, unsigned long long flags) {
  Device &d = Device::get();
  Call c("cudaGraphInstantiate");
  Graph *g = d.graphOf(graph);
  if (!pGraphExec || !g || flags) {
    if (!g)
      d.report("api", d.describeCall(c.seq()) +
                          ": not a graph cudaStreamEndCapture returned");
    return done(c, cudaErrorInvalidValue);
  }
  *pGraphExec = reinterpret_cast<cudaGraphExec_t>(d.instantiate(g));
  return done(c, cudaSuccess);
}

cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t *pGraphExec,
                                          cudaGraph_t graph,
                                          unsigned long long flags) {
  return cudaGraphInstantiate(pGraphExec, graph, flags);
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaGraphLaunch");
  Stream *s = d.stream(stream, "cudaGraphLaunch");
  GraphExec *e = d.execOf(graphExec);
  if (!s || !e) {
    if (!e)
      d.report("api", d.describeCall(c.seq()) +
                          ": not a live cudaGraphExec_t");
    return done(c, cudaErrorInvalidResourceHandle);
  }
  c.setStream(s);
  if (s->capture) {
    d.report("api", d.describeCall(c.seq()) +
                        ": the emulator does not capture graph launches");
    return done(c, cudaErrorStreamCaptureUnsupported);
  }
  Op summary;
  if (!d.launchGraph(e, s, c.seq(), summary))
    d.sticky = d.lastError = cudaErrorIllegalAddress;
  c.setOp(summary);
  return done(c, cudaSuccess);
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t graphExec) {
  Device &d = Device::get();
  Call c("cudaGraphExecDestroy");
  GraphExec *e = d.execOf(graphExec);
  if (!e)
    return done(c, cudaErrorInvalidValue);
  e->destroyed = true;
  return done(c, cudaSuccess);
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  Device &d = Device::get();
  Call c("cudaGraphDestroy");
  Graph *g = d.graphOf(graph);
  if (!g)
    return done(c, cudaErrorInvalidValue);
  g->destroyed = true;
  return done(c, cudaSuccess);
}

} // extern "C"
