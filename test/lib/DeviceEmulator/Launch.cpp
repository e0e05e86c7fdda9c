//===- Launch.cpp - Kernel registration and launches ----------------------===//
//
// What nvcc's generated host code calls. At load, each translation unit with
// kernels registers its fat binary and, per kernel, the host stub's address
// with the device function's mangled name (__cudaRegisterFunction); the
// emulator maps the demangled name to the kernel's host version
// (HostKernels.h). A `<<<grid, block, shmem, stream>>>` launch pushes its
// configuration (__cudaPushCallConfiguration), and the stub pops it and
// calls __cudaLaunchKernel (CUDA 13; cudaLaunchKernel with the stub's
// address under __NV_LEGACY_LAUNCH) with the addresses of its arguments.
//
//===----------------------------------------------------------------------===//

#include "Device.h"
#include "HostKernels.h"

#include <cxxabi.h>

#include <cstdlib>
#include <map>
#include <memory>

using namespace ios::emu;

namespace {

/// A registered kernel (its address is the cudaKernel_t handle).
struct Registered {
  std::string name; // demangled, qualified
  const HostKernel *kernel = nullptr;
};

/// By host stub address. Registration runs in static constructors, before
/// main: function-local statics, built on first use.
std::map<const void *, std::unique_ptr<Registered>> &registry() {
  static auto *r = new std::map<const void *, std::unique_ptr<Registered>>();
  return *r;
}

struct Configuration {
  dim3 grid, block;
  size_t sharedMem;
  cudaStream_t stream;
};
thread_local std::vector<Configuration> configurations;

std::string qualifiedName(const char *mangled) {
  int status = 0;
  char *d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && d ? d : mangled;
  std::free(d);
  size_t paren = name.find('(');
  return paren == std::string::npos ? name : name.substr(0, paren);
}

std::string shortName(const std::string &qualified) {
  size_t colon = qualified.rfind("::");
  return colon == std::string::npos ? qualified : qualified.substr(colon + 2);
}

cudaError_t launch(const Registered *r, dim3 grid, dim3 block, void **args,
                   size_t sharedMem, cudaStream_t stream) {
  Device &d = Device::get();
  Call c("cudaLaunchKernel", r ? shortName(r->name) : "?");
  auto done = [&](cudaError_t e) {
    c.setStatus(int(e));
    return d.fail(e);
  };
  if (!r) {
    d.report("kernel", d.describeCall(c.seq()) +
                           ": not a registered kernel (__cudaRegisterFunction)");
    return done(cudaErrorInvalidDeviceFunction);
  }
  Stream *s = d.stream(stream, "cudaLaunchKernel");
  if (!s)
    return done(cudaErrorInvalidResourceHandle);
  c.setStream(s);
  // The launch limits of every current GPU: 1024 threads a block
  // (x, y <= 1024, z <= 64), a grid of 2^31-1 x 65535 x 65535 blocks, 48 KiB
  // of dynamic shared memory without opting in.
  uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.x > 1024 || block.y > 1024 ||
      block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535 ||
      sharedMem > 48 * 1024) {
    d.report("kernel", d.describeCall(c.seq()) +
                           ": invalid launch configuration (grid " +
                           std::to_string(grid.x) + "x" +
                           std::to_string(grid.y) + "x" +
                           std::to_string(grid.z) + ", block " +
                           std::to_string(block.x) + "x" +
                           std::to_string(block.y) + "x" +
                           std::to_string(block.z) + ")");
    return done(cudaErrorInvalidConfiguration);
  }
  if (!r->kernel) {
    d.report("kernel", d.describeCall(c.seq()) + ": " + r->name +
                           " has no host version in the emulator "
                           "(test/lib/DeviceEmulator/HostKernels.cpp)");
    return done(cudaErrorInvalidDeviceFunction);
  }
  Op op;
  r->kernel->access(op, args);
  c.setOp(op);
  // A fault is asynchronous: the launch succeeds, the context is lost.
  if (!d.submit(op, s, c.seq(),
                r->kernel->bind(*r->kernel, grid, block, args)))
    d.sticky = d.lastError = cudaErrorIllegalAddress;
  return done(cudaSuccess);
}

} // namespace

// Declared by nvcc's crt/host_runtime.h and crt/device_functions.h, which
// only nvcc-compiled code includes.
extern "C" {

void **__cudaRegisterFatBinary(void *fatCubin) {
  static std::vector<std::unique_ptr<void *>> handles;
  handles.push_back(std::make_unique<void *>(fatCubin));
  return handles.back().get();
}

void __cudaRegisterFatBinaryEnd(void **) {}

void __cudaUnregisterFatBinary(void **) {}

char __cudaInitModule(void **) { return 1; }

void __cudaRegisterFunction(void **, const char *hostFun, char *,
                            const char *deviceName, int, uint3 *, uint3 *,
                            dim3 *, dim3 *, int *) {
  auto r = std::make_unique<Registered>();
  r->name = qualifiedName(deviceName);
  r->kernel = findHostKernel(r->name);
  registry()[hostFun] = std::move(r);
}

unsigned __cudaPushCallConfiguration(dim3 gridDim, dim3 blockDim,
                                     size_t sharedMem,
                                     struct CUstream_st *stream) {
  configurations.push_back({gridDim, blockDim, sharedMem, stream});
  return 0;
}

cudaError_t __cudaPopCallConfiguration(dim3 *gridDim, dim3 *blockDim,
                                       size_t *sharedMem, void *stream) {
  if (configurations.empty())
    return cudaErrorInvalidConfiguration;
  Configuration c = configurations.back();
  configurations.pop_back();
  *gridDim = c.grid;
  *blockDim = c.block;
  *sharedMem = c.sharedMem;
  *static_cast<cudaStream_t *>(stream) = c.stream;
  return cudaSuccess;
}

cudaError_t __cudaGetKernel(cudaKernel_t *kernel, const void *hostFun) {
  auto it = registry().find(hostFun);
  if (it == registry().end())
    return cudaErrorInvalidDeviceFunction;
  *kernel = reinterpret_cast<cudaKernel_t>(it->second.get());
  return cudaSuccess;
}

cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, dim3 gridDim,
                               dim3 blockDim, void **args, size_t sharedMem,
                               cudaStream_t stream) {
  return launch(reinterpret_cast<const Registered *>(kernel), gridDim,
                blockDim, args, sharedMem, stream);
}

cudaError_t __cudaLaunchKernel_ptsz(cudaKernel_t kernel, dim3 gridDim,
                                    dim3 blockDim, void **args,
                                    size_t sharedMem, cudaStream_t stream) {
  return __cudaLaunchKernel(kernel, gridDim, blockDim, args, sharedMem,
                            stream == nullptr ? cudaStreamPerThread : stream);
}

cudaError_t cudaLaunchKernel(const void *func, dim3 gridDim, dim3 blockDim,
                             void **args, size_t sharedMem,
                             cudaStream_t stream) {
  auto it = registry().find(func);
  return launch(it == registry().end() ? nullptr : it->second.get(), gridDim,
                blockDim, args, sharedMem, stream);
}

} // extern "C"
