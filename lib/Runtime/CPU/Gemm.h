//===- Gemm.h - Packed single-precision GEMM of the CPU runtime -*- C++ -*-===//
//
// C[M x N] += A[M x K] * B[K x N] with A row-major (weights: output channels
// x reduction) and B supplied by a packing callback, so a convolution packs
// its input windows straight into the GEMM's panels (no im2col buffer).
// GotoBLAS-style blocking (NC x KC panels of B, MC x KC blocks of A) around a
// 6 x 16 register-tile micro-kernel: AVX2+FMA when the CPU has it (chosen at
// run time), portable C++ otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef IOS_LIB_RUNTIME_CPU_GEMM_H
#define IOS_LIB_RUNTIME_CPU_GEMM_H

#include <cstdint>

namespace ios::rt::cpu {

constexpr int64_t kGemmMR = 6, kGemmNR = 16;

/// Packs rows [k0, k0 + kc) x columns [j0, j0 + nc) of B into `dst`: for
/// each panel of kGemmNR columns, kc rows of kGemmNR floats (columns past
/// `nc` zero), panels one after another.
using PackB = void (*)(const void *state, int64_t k0, int64_t kc, int64_t j0,
                       int64_t nc, float *dst);

/// C[i * ldc + j] += sum_k A[i * lda + k] * B(k, j).
void gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
          PackB packB, const void *bState, float *C, int64_t ldc);

/// Packs a row-major B (`B[k * ldb + j]`) for gemm().
void packRowMajorB(const void *state, int64_t k0, int64_t kc, int64_t j0,
                   int64_t nc, float *dst);
struct RowMajorB {
  const float *data;
  int64_t ld;
};

/// Whether gemm() uses the AVX2+FMA micro-kernel on this CPU.
bool gemmUsesAvx2();
/// Tests: use the portable micro-kernel even where AVX2 is available.
void gemmForceGeneric(bool generic);

} // namespace ios::rt::cpu

#endif // IOS_LIB_RUNTIME_CPU_GEMM_H
