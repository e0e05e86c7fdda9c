# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "IOS"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.ios_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%ios_src_root", config.ios_src_root))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Debian's /usr/bin only has versioned LLVM tool names: prefer the unversioned
# ones in the LLVM tools dir, then our own tools.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.ios_tools_dir, config.llvm_tools_dir]
tools = ["ios-opt", "ios-translate", ToolSubst("ios-fuzz", unresolved="ignore"),
         ToolSubst("ios-sched-bench", unresolved="ignore"),
         ToolSubst("ios-stage-server-cpu", unresolved="ignore"),
         ToolSubst("ios-stage-server-cuda-emulated", unresolved="ignore")]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The python package (model zoo, reference) runs from the source tree.
config.environment["PYTHONPATH"] = os.path.join(config.ios_src_root, "python")

config.substitutions.append(("%ios_build", config.ios_obj_root))
config.substitutions.append(("%ios_include", os.path.join(config.ios_src_root, "include")))
config.environment["IOS_BUILD_DIR"] = config.ios_obj_root
# How emitted programs link: the driver (main) and the runtime's backend.
lib = os.path.join(config.ios_obj_root, "lib")
config.substitutions.append(
    ("%ios_cpu_link_tsan", f"-L{lib} -lIOSRuntimeDriver-thread "
     "-lIOSRuntimeCPU-thread -ldnnl -lgomp -lpthread"))
config.substitutions.append(
    ("%ios_cpu_link", f"-L{lib} -lIOSRuntimeDriver -lIOSRuntimeCPU -ldnnl "
     "-lgomp -lpthread"))
config.substitutions.append(
    ("%ios_emulated_cuda_link", f"-cudart none -L{lib} -lIOSRuntimeDriver "
     "-lIOSRuntimeCUDA -lIOSDeviceEmulator -lcudnn"))

# A compiler built with sanitizers (IOS_SANITIZE, scripts/sanitize.sh): a
# report aborts the tool (a `not` command fails on a crash, not on exit 1).
# Debian's libLLVM/libMLIR are not instrumented: containers they fill look
# overflowed, their BumpPtrAllocator slabs are poisoned by inline code that
# libMLIR does not know about, and their start-up allocations are leaks
# (docs/Fuzzing.md). Options given in the environment win.
if config.ios_sanitize:
    config.available_features.add("sanitized-compiler")
    config.environment.setdefault(
        "ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0:"
        "detect_container_overflow=0:allow_user_poisoning=0")
    config.environment.setdefault(
        "UBSAN_OPTIONS", "halt_on_error=1:abort_on_error=1:print_stacktrace=1")

# The CUDA backend of the runtime is built when the toolkit and cuDNN are
# found; tests that compile and link CUDA programs need it.
if config.ios_runtime_cuda in ("ON", "1", "TRUE"):
    config.available_features.add("cuda")
    config.substitutions.append(("%nvcc", config.cuda_nvcc))
