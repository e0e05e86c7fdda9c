//===- Runtime.cpp - The CUDA runtime API on the emulated device ----------===//
//
// Memory, streams, events, copies and memsets. The host synchronisation of
// each copy follows the CUDA runtime API's "API synchronization behavior"
// section (CUDA 13 runtime API reference):
//
//  * cudaMemcpy, host -> device from pageable memory: "a stream sync is
//    performed before the copy is initiated", and the call "will return
//    once the pageable buffer has been copied to the staging memory ... but
//    the DMA to final destination may not have completed": the host does
//    NOT see the copy complete;
//  * cudaMemcpy from pinned memory, or device -> host: returns once done;
//  * cudaMemcpy device -> device: "no host-side synchronization";
//  * cudaMemset: "asynchronous with respect to the host" for device memory;
//  * cudaMemcpyAsync device -> pageable host memory: returns once done;
//    every other async copy or memset: no host synchronisation.
//
// cudaMemcpy/cudaMemset run on the legacy default stream (which, unlike
// cudaStreamNonBlocking streams, the blocking streams order with).
//
//===----------------------------------------------------------------------===//

#include "Device.h"

#include <cstdlib>
#include <cstring>

using namespace ios::emu;

namespace {

cudaError_t done(Call &c, cudaError_t e) {
  c.setStatus(int(e));
  return Device::get().fail(e);
}

/// An operation a capture in progress prohibits (CUDA 13, "Stream
/// Capture"): reported, and the captures are invalidated, as on a GPU.
cudaError_t prohibited(Call &c, const std::string &what, cudaError_t e) {
  Device &d = Device::get();
  std::string why = d.describeCall(c.seq()) + ": " + what;
  d.report("api", why);
  d.invalidateCaptures(why);
  return done(c, e);
}

const char *kindName(cudaMemcpyKind k) {
  switch (k) {
  case cudaMemcpyHostToHost:
    return "HostToHost";
  case cudaMemcpyHostToDevice:
    return "HostToDevice";
  case cudaMemcpyDeviceToHost:
    return "DeviceToHost";
  case cudaMemcpyDeviceToDevice:
    return "DeviceToDevice";
  default:
    return "Default";
  }
}

/// cudaMemcpy / cudaMemcpyAsync on `s`.
cudaError_t copy(Call &c, const char *api, void *dst, const void *src,
                 size_t count, cudaMemcpyKind kind, Stream *s, bool async) {
  Device &d = Device::get();
  c.setStream(s);
  bool dstDevice = d.isDevice(dst), srcDevice = d.isDevice(src);
  cudaMemcpyKind actual =
      dstDevice ? (srcDevice ? cudaMemcpyDeviceToDevice
                             : cudaMemcpyHostToDevice)
                : (srcDevice ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  if (kind != cudaMemcpyDefault && kind != actual) {
    d.report("api", d.describeCall(c.seq()) + ": " + api + " kind " +
                        kindName(kind) + ", but the pointers make it " +
                        kindName(actual) + " (destination " +
                        d.describeAddress(uintptr_t(dst)) + ", source " +
                        d.describeAddress(uintptr_t(src)) + ")");
    return done(c, cudaErrorInvalidValue);
  }
  if (!dst || !src)
    return done(c, cudaErrorInvalidValue);
  if (!async && d.capturing())
    return prohibited(c, std::string(api) +
                             " (the legacy stream) while a stream is being "
                             "captured",
                      cudaErrorStreamCaptureImplicit);
  if (s->capture && actual != cudaMemcpyDeviceToDevice)
    return prohibited(c, std::string(api) + " " + kindName(actual) +
                             " captured (emulator: only device-to-device "
                             "copies are captured)",
                      cudaErrorStreamCaptureUnsupported);
  bool pageable = (actual == cudaMemcpyHostToDevice && !d.isPinnedHost(src)) ||
                  (actual == cudaMemcpyDeviceToHost && !d.isPinnedHost(dst));
  if (!async && actual == cudaMemcpyHostToDevice && pageable)
    d.hostJoin(d.legacy()->vc); // the stream sync before the copy
  Op op;
  if (srcDevice)
    op.read(src, count, "the copy's source");
  if (dstDevice)
    op.write(dst, count, "the copy's destination");
  c.setOp(op);
  if (!d.submit(op, s, c.seq(), [dst, src, count] {
        if (count)
          std::memmove(dst, src, count);
      }))
    return done(c, cudaErrorInvalidValue);
  if (s->capture)
    return done(c, cudaSuccess);
  bool hostSees = async ? (actual == cudaMemcpyDeviceToHost && pageable)
                        : actual != cudaMemcpyDeviceToDevice &&
                              !(actual == cudaMemcpyHostToDevice && pageable);
  if (hostSees)
    d.hostJoin(op.vc);
  return done(c, cudaSuccess);
}

cudaError_t memset(Call &c, void *dst, int value, size_t count, Stream *s) {
  Device &d = Device::get();
  c.setStream(s);
  if (s == d.legacy() && d.capturing())
    return prohibited(c, "cudaMemset (the legacy stream) while a stream is "
                         "being captured",
                      cudaErrorStreamCaptureImplicit);
  Op op;
  op.write(dst, count, "the memset's destination");
  c.setOp(op);
  if (!d.submit(op, s, c.seq(),
                [dst, value, count] { std::memset(dst, value, count); }))
    return done(c, cudaErrorInvalidValue);
  return done(c, cudaSuccess);
}

} // namespace

int ios::emu::deviceCount() {
  const char *env = std::getenv("IOS_EMU_DEVICES");
  return env && *env ? std::atoi(env) : 1;
}

extern "C" {

cudaError_t cudaGetDeviceCount(int *count) {
  Call c("cudaGetDeviceCount");
  if (!count)
    return done(c, cudaErrorInvalidValue);
  *count = deviceCount();
  return done(c, *count > 0 ? cudaSuccess : cudaErrorNoDevice);
}

cudaError_t cudaGetDevice(int *device) {
  Call c("cudaGetDevice");
  if (!device)
    return done(c, cudaErrorInvalidValue);
  *device = 0;
  return done(c, deviceCount() > 0 ? cudaSuccess : cudaErrorNoDevice);
}

cudaError_t cudaSetDevice(int device) {
  Call c("cudaSetDevice");
  return done(c, device == 0 && deviceCount() > 0 ? cudaSuccess
                                                  : cudaErrorInvalidDevice);
}

cudaError_t cudaGetLastError(void) {
  Device &d = Device::get();
  Call c("cudaGetLastError");
  cudaError_t e = d.lastError;
  d.lastError = d.sticky;
  c.setStatus(int(e));
  return e;
}

cudaError_t cudaPeekAtLastError(void) {
  Device &d = Device::get();
  Call c("cudaPeekAtLastError");
  c.setStatus(int(d.lastError));
  return d.lastError;
}

const char *cudaGetErrorName(cudaError_t error) {
  switch (error) {
#define NAME(e)                                                                \
  case e:                                                                      \
    return #e;
    NAME(cudaSuccess)
    NAME(cudaErrorInvalidValue)
    NAME(cudaErrorMemoryAllocation)
    NAME(cudaErrorInvalidConfiguration)
    NAME(cudaErrorInvalidDevice)
    NAME(cudaErrorInvalidResourceHandle)
    NAME(cudaErrorInvalidDeviceFunction)
    NAME(cudaErrorIllegalAddress)
    NAME(cudaErrorNoDevice)
    NAME(cudaErrorNotSupported)
    NAME(cudaErrorLaunchFailure)
    NAME(cudaErrorNotReady)
    NAME(cudaErrorIllegalState)
    NAME(cudaErrorStreamCaptureUnsupported)
    NAME(cudaErrorStreamCaptureInvalidated)
    NAME(cudaErrorStreamCaptureUnjoined)
    NAME(cudaErrorStreamCaptureIsolation)
    NAME(cudaErrorStreamCaptureImplicit)
#undef NAME
  default:
    return "cudaErrorUnknown";
  }
}

const char *cudaGetErrorString(cudaError_t error) {
  switch (error) {
  case cudaSuccess:
    return "no error";
  case cudaErrorInvalidValue:
    return "invalid argument";
  case cudaErrorMemoryAllocation:
    return "out of memory";
  case cudaErrorInvalidConfiguration:
    return "invalid configuration argument";
  case cudaErrorInvalidDevice:
    return "invalid device ordinal";
  case cudaErrorInvalidResourceHandle:
    return "invalid resource handle";
  case cudaErrorInvalidDeviceFunction:
    return "invalid device function";
  case cudaErrorIllegalAddress:
    return "an illegal memory access was encountered";
  case cudaErrorNoDevice:
    return "no CUDA-capable device is detected (emulator: IOS_EMU_DEVICES=0)";
  case cudaErrorNotSupported:
    return "operation not supported";
  case cudaErrorLaunchFailure:
    return "unspecified launch failure";
  case cudaErrorNotReady:
    return "device not ready";
  case cudaErrorIllegalState:
    return "the operation is not permitted in the current state";
  case cudaErrorStreamCaptureUnsupported:
    return "operation not permitted when stream is capturing";
  case cudaErrorStreamCaptureInvalidated:
    return "operation failed due to a previous error during capture";
  case cudaErrorStreamCaptureUnjoined:
    return "capture sequence contains a fork that was not joined to the "
           "primary stream";
  case cudaErrorStreamCaptureIsolation:
    return "dependency created on uncaptured work in another stream";
  case cudaErrorStreamCaptureImplicit:
    return "operation would make the legacy stream depend on a capturing "
           "blocking stream";
  default:
    return "unknown error";
  }
}

cudaError_t cudaDeviceSynchronize(void) {
  Device &d = Device::get();
  Call c("cudaDeviceSynchronize");
  if (d.capturing())
    return prohibited(c, "cudaDeviceSynchronize while a stream is being "
                         "captured",
                      cudaErrorStreamCaptureUnsupported);
  for (Stream *s : d.allStreams())
    d.hostJoin(s->vc);
  return done(c, d.sticky);
}

//===----------------------------------------------------------------------===//
// Streams and events
//===----------------------------------------------------------------------===//

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream,
                                      unsigned int flags) {
  Device &d = Device::get();
  Call c("cudaStreamCreateWithFlags");
  if (!stream || (flags & ~unsigned(cudaStreamNonBlocking)))
    return done(c, cudaErrorInvalidValue);
  Stream *s = d.createStream(flags & cudaStreamNonBlocking);
  c.setStream(s);
  *stream = reinterpret_cast<cudaStream_t>(s);
  return done(c, cudaSuccess);
}

cudaError_t cudaStreamCreate(cudaStream_t *stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaStreamDestroy");
  return done(c, d.destroyStream(stream) ? cudaSuccess
                                         : cudaErrorInvalidResourceHandle);
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaStreamSynchronize");
  Stream *s = d.stream(stream, "cudaStreamSynchronize");
  if (!s)
    return done(c, cudaErrorInvalidResourceHandle);
  c.setStream(s);
  if (s->capture)
    return prohibited(c, "synchronizes " + s->name() +
                             ", which is being captured",
                      cudaErrorStreamCaptureUnsupported);
  d.hostJoin(s->vc);
  return done(c, d.sticky);
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaStreamQuery");
  Stream *s = d.stream(stream, "cudaStreamQuery");
  if (!s)
    return done(c, cudaErrorInvalidResourceHandle);
  c.setStream(s);
  if (s->capture)
    return prohibited(c, "queries " + s->name() +
                             ", which is being captured",
                      cudaErrorStreamCaptureUnsupported);
  d.hostJoin(s->vc); // eager: all of it has completed, and the host knows
  return done(c, d.sticky);
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event,
                                unsigned int flags) {
  Device &d = Device::get();
  Call c("cudaStreamWaitEvent");
  Stream *s = d.stream(stream, "cudaStreamWaitEvent");
  Event *e = d.event(event, "cudaStreamWaitEvent");
  if (!s || !e)
    return done(c, cudaErrorInvalidResourceHandle);
  c.setStream(s);
  if (flags != cudaEventWaitDefault) {
    d.report("api", d.describeCall(c.seq()) + ": flags must be "
                                              "cudaEventWaitDefault here");
    return done(c, cudaErrorInvalidValue);
  }
  // In a capture: an edge of the graph (the stream joins the capture).
  if (s->capture || e->capture) {
    if (std::string why = d.captureWait(s, e, c.seq()); !why.empty())
      return prohibited(c, why, cudaErrorStreamCaptureIsolation);
    return done(c, cudaSuccess);
  }
  // "If cudaEventRecord() has not been called on event, this call acts as
  // if the record has already completed": a never-recorded event adds
  // nothing.
  if (e->recorded)
    s->vc.join(e->vc);
  return done(c, cudaSuccess);
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags) {
  Device &d = Device::get();
  Call c("cudaEventCreateWithFlags");
  if (!event || (flags & ~unsigned(cudaEventBlockingSync |
                                    cudaEventDisableTiming |
                                    cudaEventInterprocess)))
    return done(c, cudaErrorInvalidValue);
  Event *e = d.createEvent();
  e->timing = !(flags & cudaEventDisableTiming);
  *event = reinterpret_cast<cudaEvent_t>(e);
  return done(c, cudaSuccess);
}

cudaError_t cudaEventCreate(cudaEvent_t *event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  Device &d = Device::get();
  Call c("cudaEventDestroy");
  return done(c, d.destroyEvent(event) ? cudaSuccess
                                       : cudaErrorInvalidResourceHandle);
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaEventRecord");
  Stream *s = d.stream(stream, "cudaEventRecord");
  Event *e = d.event(event, "cudaEventRecord");
  if (!s || !e)
    return done(c, cudaErrorInvalidResourceHandle);
  c.setStream(s);
  if (s->capture) { // a node of the graph, not a point in time
    d.captureRecord(e, s, c.seq());
    return done(c, cudaSuccess);
  }
  e->capture = nullptr;
  Op op; // no memory: a point in the stream
  d.enqueue(op, s, c.seq());
  e->vc = op.vc;
  e->recorded = true;
  // Everything before it on the stream has run (eagerly): its time is now.
  e->time = d.now();
  return done(c, cudaSuccess);
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start,
                                 cudaEvent_t end) {
  Device &d = Device::get();
  Call c("cudaEventElapsedTime");
  Event *a = d.event(start, "cudaEventElapsedTime");
  Event *b = d.event(end, "cudaEventElapsedTime");
  if (!ms)
    return done(c, cudaErrorInvalidValue);
  if (!a || !b)
    return done(c, cudaErrorInvalidResourceHandle);
  // "If cudaEventRecord() has not been called on either event, then
  // cudaErrorInvalidResourceHandle is returned. If either event was created
  // with the cudaEventDisableTiming flag, then this function will return
  // cudaErrorInvalidResourceHandle."
  for (Event *e : {a, b})
    if (!e->recorded || !e->timing || e->capture) {
      d.report("api", d.describeCall(c.seq()) + ": event " +
                          std::to_string(e->number) +
                          (e->recorded ? " was created with "
                                         "cudaEventDisableTiming"
                                       : " was never recorded"));
      return done(c, cudaErrorInvalidResourceHandle);
    }
  // "cudaErrorNotReady if either event has not yet completed": completed
  // for the host means a synchronization covered its record.
  VectorClock &host = d.hostClock();
  for (Event *e : {a, b})
    for (size_t actor = 0; actor < e->vc.c.size(); ++actor)
      if (host.at(actor) < e->vc.c[actor])
        return done(c, cudaErrorNotReady);
  *ms = float(double(b->time - a->time) / 1e6);
  return done(c, d.sticky);
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  Device &d = Device::get();
  Call c("cudaEventSynchronize");
  Event *e = d.event(event, "cudaEventSynchronize");
  if (!e)
    return done(c, cudaErrorInvalidResourceHandle);
  if (e->capture)
    return prohibited(c, "an event recorded in a capture in progress",
                      cudaErrorStreamCaptureUnsupported);
  if (e->recorded)
    d.hostJoin(e->vc);
  return done(c, d.sticky);
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  Device &d = Device::get();
  Call c("cudaEventQuery");
  Event *e = d.event(event, "cudaEventQuery");
  if (!e)
    return done(c, cudaErrorInvalidResourceHandle);
  if (e->capture)
    return prohibited(c, "an event recorded in a capture in progress",
                      cudaErrorStreamCaptureUnsupported);
  if (e->recorded)
    d.hostJoin(e->vc);
  return done(c, d.sticky);
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

cudaError_t cudaMalloc(void **devPtr, size_t size) {
  Device &d = Device::get();
  Call c("cudaMalloc");
  if (!devPtr)
    return done(c, cudaErrorInvalidValue);
  *devPtr = d.allocate(size, "cudaMalloc", false, c.seq());
  return done(c, *devPtr ? cudaSuccess : cudaErrorMemoryAllocation);
}

cudaError_t cudaMallocHost(void **ptr, size_t size) {
  Device &d = Device::get();
  Call c("cudaMallocHost");
  if (!ptr)
    return done(c, cudaErrorInvalidValue);
  *ptr = d.allocate(size, "cudaMallocHost", true, c.seq());
  return done(c, *ptr ? cudaSuccess : cudaErrorMemoryAllocation);
}

cudaError_t cudaHostAlloc(void **ptr, size_t size, unsigned int flags) {
  (void)flags;
  return cudaMallocHost(ptr, size);
}

cudaError_t cudaFreeHost(void *ptr) {
  Device &d = Device::get();
  Call c("cudaFreeHost");
  if (!ptr)
    return done(c, cudaSuccess);
  Allocation *a = d.allocationAt(ptr);
  if (!a || !a->pinnedHost) {
    d.report("api", d.describeCall(c.seq()) +
                        ": not a pointer cudaMallocHost returned");
    return done(c, cudaErrorInvalidValue);
  }
  d.release(a, c.seq());
  return done(c, cudaSuccess);
}

cudaError_t cudaFree(void *devPtr) {
  Device &d = Device::get();
  Call c("cudaFree");
  if (!devPtr)
    return done(c, cudaSuccess);
  Allocation *a = d.allocationAt(devPtr);
  if (!a || a->pinnedHost) {
    d.report("api", d.describeCall(c.seq()) + ": " +
                        d.describeAddress(uintptr_t(devPtr)) +
                        " is not a pointer cudaMalloc returned");
    return done(c, cudaErrorInvalidValue);
  }
  // The emulator does not assume cudaFree waits for the device: whatever
  // still uses the memory must be ordered before it (synchronized).
  Op op;
  op.write(devPtr, a->size, "the freed allocation");
  d.executeOnHost(op, c.seq());
  d.release(a, c.seq());
  return done(c, cudaSuccess);
}

cudaError_t cudaMallocAsync(void **devPtr, size_t size, cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaMallocAsync");
  Stream *s = d.stream(stream, "cudaMallocAsync");
  if (!s)
    return done(c, cudaErrorInvalidResourceHandle);
  c.setStream(s);
  if (!devPtr)
    return done(c, cudaErrorInvalidValue);
  if (s->capture)
    return prohibited(c, "emulator: stream-ordered allocation is not "
                         "captured",
                      cudaErrorStreamCaptureUnsupported);
  *devPtr = d.allocate(size, "cudaMallocAsync", false, c.seq());
  if (!*devPtr)
    return done(c, cudaErrorMemoryAllocation);
  // "The allocation must not be accessed until the allocation operation
  // completes": the allocation is a write on `stream` other streams must
  // be ordered after.
  Op op;
  op.allocation = true;
  op.write(*devPtr, size, "the allocation");
  d.enqueue(op, s, c.seq());
  d.execute(op);
  return done(c, cudaSuccess);
}

cudaError_t cudaFreeAsync(void *devPtr, cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaFreeAsync");
  Stream *s = d.stream(stream, "cudaFreeAsync");
  if (!s)
    return done(c, cudaErrorInvalidResourceHandle);
  c.setStream(s);
  if (s->capture)
    return prohibited(c, "emulator: stream-ordered allocation is not "
                         "captured",
                      cudaErrorStreamCaptureUnsupported);
  Allocation *a = d.allocationAt(devPtr);
  if (!a || a->pinnedHost) {
    d.report("api", d.describeCall(c.seq()) + ": " +
                        d.describeAddress(uintptr_t(devPtr)) +
                        " is not a pointer cudaMalloc(Async) returned");
    return done(c, cudaErrorInvalidValue);
  }
  // "The allocation must not be accessed after stream execution reaches
  // the free": every earlier use must be ordered before it.
  Op op;
  op.write(devPtr, a->size, "the freed allocation");
  d.enqueue(op, s, c.seq());
  d.execute(op);
  d.release(a, c.seq());
  return done(c, cudaSuccess);
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t count,
                       cudaMemcpyKind kind) {
  Device &d = Device::get();
  Call c("cudaMemcpy");
  cudaError_t e = copy(c, "cudaMemcpy", dst, src, count, kind, d.legacy(),
                       false);
  return e != cudaSuccess ? e : done(c, d.sticky);
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count,
                            cudaMemcpyKind kind, cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaMemcpyAsync");
  Stream *s = d.stream(stream, "cudaMemcpyAsync");
  if (!s)
    return done(c, cudaErrorInvalidResourceHandle);
  return copy(c, "cudaMemcpyAsync", dst, src, count, kind, s, true);
}

cudaError_t cudaMemset(void *devPtr, int value, size_t count) {
  Device &d = Device::get();
  Call c("cudaMemset");
  return memset(c, devPtr, value, count, d.legacy());
}

cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count,
                            cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaMemsetAsync");
  Stream *s = d.stream(stream, "cudaMemsetAsync");
  if (!s)
    return done(c, cudaErrorInvalidResourceHandle);
  return memset(c, devPtr, value, count, s);
}

} // extern "C"
