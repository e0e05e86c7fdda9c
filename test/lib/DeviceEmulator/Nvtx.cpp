//===- Nvtx.cpp - The runtime's NVTX ranges, seen by the emulator ---------===//
//
// The CUDA backend names each runtime call with an NVTX range (the model's
// op name: "conv2d#4: conv2d"), which Nsight Systems shows on a GPU. The
// emulator is a statically linked NVTX tool (NVTX3's static injection: a
// strong InitializeInjectionNvtx2_fnptr replaces the header's weak one), so
// every CUDA/cuDNN call is attributed to the op it was issued for, in
// reports and in the trace. Marks (the runtime marks where each stage
// begins) go into the trace between the calls they fell between.
//
//===----------------------------------------------------------------------===//

#include <cstdint>

// The tool's strong definition (below) replaces the weak one every NVTX
// user gets; the loader code in the header refers to it.
extern "C" int (*InitializeInjectionNvtx2_fnptr)(const void *(*)(uint32_t));
#define NVTX_STATIC_INJECTION_IMPL
#include <nvtx3/nvToolsExt.h>

#include "Device.h"

using namespace ios::emu;

namespace {

int rangePushA(const char *message) {
  Device &d = Device::get();
  std::lock_guard<std::recursive_mutex> lock(d.mutex);
  d.ranges.push_back(message ? message : "");
  return int(d.ranges.size()) - 1;
}

int rangePushEx(const nvtxEventAttributes_t *attributes) {
  bool ascii = attributes &&
               attributes->messageType == NVTX_MESSAGE_TYPE_ASCII;
  return rangePushA(ascii ? attributes->message.ascii : "");
}

void markA(const char *message) {
  Device &d = Device::get();
  std::lock_guard<std::recursive_mutex> lock(d.mutex);
  d.mark(message ? message : "");
}

void markEx(const nvtxEventAttributes_t *attributes) {
  bool ascii = attributes &&
               attributes->messageType == NVTX_MESSAGE_TYPE_ASCII;
  markA(ascii ? attributes->message.ascii : "");
}

int rangePop() {
  Device &d = Device::get();
  std::lock_guard<std::recursive_mutex> lock(d.mutex);
  if (d.ranges.empty())
    return -1;
  d.ranges.pop_back();
  return int(d.ranges.size());
}

int initialize(NvtxGetExportTableFunc_t getExportTable) {
  auto *callbacks = static_cast<const NvtxExportTableCallbacks *>(
      getExportTable(NVTX_ETID_CALLBACKS));
  NvtxFunctionTable table = nullptr;
  unsigned size = 0;
  if (!callbacks ||
      !callbacks->GetModuleFunctionTable(NVTX_CB_MODULE_CORE, &table, &size) ||
      size <= NVTX_CBID_CORE_RangePop)
    return 0;
  *table[NVTX_CBID_CORE_MarkA] = reinterpret_cast<NvtxFunctionPointer>(&markA);
  *table[NVTX_CBID_CORE_MarkEx] =
      reinterpret_cast<NvtxFunctionPointer>(&markEx);
  *table[NVTX_CBID_CORE_RangePushA] =
      reinterpret_cast<NvtxFunctionPointer>(&rangePushA);
  *table[NVTX_CBID_CORE_RangePushEx] =
      reinterpret_cast<NvtxFunctionPointer>(&rangePushEx);
  *table[NVTX_CBID_CORE_RangePop] =
      reinterpret_cast<NvtxFunctionPointer>(&rangePop);
  return 1;
}

} // namespace

NvtxInitializeInjectionNvtxFunc_t InitializeInjectionNvtx2_fnptr = &initialize;

/// Referenced by Device.cpp so that static links always take this file.
void ios::emu::linkNvtxTool() {}
