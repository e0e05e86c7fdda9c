//===- Gemm.cpp - Packed single-precision GEMM of the CPU runtime ---------===//

#include "Gemm.h"

#include <algorithm>
#include <atomic>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define IOS_RT_X86 1
#endif

using namespace ios::rt::cpu;

namespace {

constexpr int64_t MR = kGemmMR, NR = kGemmNR;
// KC x NR panel of B (16 KiB) stays in L1 across the MC rows of A; the
// MC x KC block of A (72 KiB) in L2; the KC x NC panel of B in L2/L3.
constexpr int64_t KC = 256, MC = 72, NC = 1024;

using MicroKernel = void (*)(int64_t kc, const float *a, const float *b,
                             float *c, int64_t ldc, int64_t mr, int64_t nr);

/// C[mr x nr] += A-panel (kc x MR) * B-panel (kc x NR), portable C++.
void kernelGeneric(int64_t kc, const float *a, const float *b, float *c,
                   int64_t ldc, int64_t mr, int64_t nr) {
  float acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR)
    for (int64_t i = 0; i < MR; ++i) {
      float ai = a[i];
      for (int64_t j = 0; j < NR; ++j)
        acc[i][j] += ai * b[j];
    }
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j)
      c[i * ldc + j] += acc[i][j];
}

#ifdef IOS_RT_X86
/// The same with 12 AVX2 accumulators (6 rows x 2 x 8 floats) and FMAs.
__attribute__((target("avx2,fma"))) void
kernelAvx2(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
           int64_t mr, int64_t nr) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ai, b0, c00);
    c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ai, b0, c10);
    c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ai, b0, c20);
    c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ai, b0, c30);
    c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ai, b0, c40);
    c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ai, b0, c50);
    c51 = _mm256_fmadd_ps(ai, b1, c51);
  }
  if (mr == MR && nr == NR) {
#define IOS_RT_ROW(i)                                                          \
  {                                                                            \
    float *r = c + i * ldc;                                                    \
    _mm256_storeu_ps(r, _mm256_add_ps(_mm256_loadu_ps(r), c##i##0));           \
    _mm256_storeu_ps(r + 8, _mm256_add_ps(_mm256_loadu_ps(r + 8), c##i##1));   \
  }
    IOS_RT_ROW(0) IOS_RT_ROW(1) IOS_RT_ROW(2) IOS_RT_ROW(3) IOS_RT_ROW(4)
    IOS_RT_ROW(5)
#undef IOS_RT_ROW
    return;
  }
  alignas(32) float t[MR * NR];
  _mm256_store_ps(t + 0 * NR, c00);
  _mm256_store_ps(t + 0 * NR + 8, c01);
  _mm256_store_ps(t + 1 * NR, c10);
  _mm256_store_ps(t + 1 * NR + 8, c11);
  _mm256_store_ps(t + 2 * NR, c20);
  _mm256_store_ps(t + 2 * NR + 8, c21);
  _mm256_store_ps(t + 3 * NR, c30);
  _mm256_store_ps(t + 3 * NR + 8, c31);
  _mm256_store_ps(t + 4 * NR, c40);
  _mm256_store_ps(t + 4 * NR + 8, c41);
  _mm256_store_ps(t + 5 * NR, c50);
  _mm256_store_ps(t + 5 * NR + 8, c51);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j)
      c[i * ldc + j] += t[i * NR + j];
}

bool cpuHasAvx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
bool cpuHasAvx2() { return false; }
#endif

std::atomic<bool> forceGeneric{false};

MicroKernel microKernel() {
#ifdef IOS_RT_X86
  static const bool avx2 = cpuHasAvx2();
  if (avx2 && !forceGeneric.load(std::memory_order_relaxed))
    return kernelAvx2;
#endif
  return kernelGeneric;
}

/// Packs rows [i0, i0 + mc) x columns [k0, k0 + kc) of A into MR-row panels
/// (kc x MR each, rows past `mc` zero).
void packA(const float *A, int64_t lda, int64_t i0, int64_t mc, int64_t k0,
           int64_t kc, float *dst) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    int64_t mr = std::min(MR, mc - ip);
    const float *rows[MR];
    for (int64_t r = 0; r < mr; ++r)
      rows[r] = A + (i0 + ip + r) * lda + k0;
    for (int64_t k = 0; k < kc; ++k, dst += MR) {
      int64_t r = 0;
      for (; r < mr; ++r)
        dst[r] = rows[r][k];
      for (; r < MR; ++r)
        dst[r] = 0.0f;
    }
  }
}

int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

} // namespace

bool ios::rt::cpu::gemmUsesAvx2() { return microKernel() != kernelGeneric; }

void ios::rt::cpu::gemmForceGeneric(bool generic) { forceGeneric = generic; }

void ios::rt::cpu::packRowMajorB(const void *state, int64_t k0, int64_t kc,
                                 int64_t j0, int64_t nc, float *dst) {
  const RowMajorB &B = *static_cast<const RowMajorB *>(state);
  for (int64_t jp = 0; jp < nc; jp += NR) {
    int64_t w = std::min(NR, nc - jp);
    const float *src = B.data + k0 * B.ld + j0 + jp;
    for (int64_t k = 0; k < kc; ++k, src += B.ld, dst += NR) {
      if (w == NR) {
        std::copy(src, src + NR, dst);
        continue;
      }
      std::copy(src, src + w, dst);
      std::fill(dst + w, dst + NR, 0.0f);
    }
  }
}

void ios::rt::cpu::gemm(int64_t M, int64_t N, int64_t K, const float *A,
                        int64_t lda, PackB packB, const void *bState, float *C,
                        int64_t ldc) {
  if (M <= 0 || N <= 0 || K <= 0)
    return;
  MicroKernel kernel = microKernel();
  // Per worker thread scratch, kept between calls.
  thread_local std::vector<float> aBuf, bBuf;
  int64_t kcMax = std::min(KC, K);
  bBuf.resize(size_t(kcMax * roundUp(std::min(NC, N), NR)));
  aBuf.resize(size_t(kcMax * roundUp(std::min(MC, M), MR)));
  float *bp = bBuf.data(), *ap = aBuf.data();
  for (int64_t jc = 0; jc < N; jc += NC) {
    int64_t nc = std::min(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      int64_t kc = std::min(KC, K - pc);
      packB(bState, pc, kc, jc, nc, bp);
      for (int64_t ic = 0; ic < M; ic += MC) {
        int64_t mc = std::min(MC, M - ic);
        packA(A, lda, ic, mc, pc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          int64_t nr = std::min(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR)
            kernel(kc, ap + ir * kc, bp + jr * kc,
                   C + (ic + ir) * ldc + jc + jr, ldc, std::min(MR, mc - ir),
                   nr);
        }
      }
    }
  }
}
