// glyphlab's native kernels: single-precision matrix products and 2-D convolutions with the
// x86-64 AVX2 and FMA instructions, computed in place on the memory of TensorFlow.js's wasm
// backend (the JavaScript side passes the wasm heap's ArrayBuffer and byte offsets).
//
// WebAssembly's 128-bit SIMD has no fused multiply-add, so the wasm backend's XNNPACK products
// run at a fraction of what the same core does natively; these kernels close most of that gap.
// They are optional: `src/backend/native-kernels.ts` loads them when they were built and the CPU
// has AVX2 and FMA, and the wasm kernels run otherwise.
//
// One product, blocked for the caches and packed into panels (the classic GotoBLAS layout):
//   C[M, N] = A[M, K] * B[K, N] (+ C)
// Convolutions run directly on their NHWC input (no im2col copy): see conv2d below.
#include <node_api.h>

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

// The kernels below use AVX2 and FMA; the glue after them runs anywhere, so that loading the
// module on an older CPU works and `supported()` can say no.
#pragma GCC push_options
#pragma GCC target("avx2,fma")

constexpr int MR = 6;     // rows of the register tile
constexpr int NR = 16;    // columns of the register tile (two 8-float vectors)

// A dense row-major matrix, possibly read transposed.
struct Dense {
  const float* data;
  int64_t ld;
  bool transposed;
  float at(int64_t row, int64_t col) const { return transposed ? data[col * ld + row] : data[row * ld + col]; }
};

// Packs depth [p0, p0 + kc) and columns [j0, j0 + nc) of B into NR-wide panels.
void packB(const Dense& b, int64_t p0, int kc, int64_t j0, int nc, float* dst) {
  for (int j = 0; j < nc; j += NR) {
    const int nr = std::min(NR, nc - j);
    float* panel = dst + static_cast<int64_t>(j) * kc;
    if (!b.transposed && nr == NR) {
      for (int p = 0; p < kc; p++) std::memcpy(panel + p * NR, b.data + (p0 + p) * b.ld + j0 + j, NR * sizeof(float));
      continue;
    }
    for (int p = 0; p < kc; p++) {
      for (int q = 0; q < NR; q++) panel[p * NR + q] = q < nr ? b.at(p0 + p, j0 + j + q) : 0.f;
    }
  }
}

// The AVX2 mask loading the first `n` (0..8) floats of a vector.
__m256i tailMask(int n) {
  alignas(32) int32_t m[8];
  for (int i = 0; i < 8; i++) m[i] = i < n ? -1 : 0;
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
}

// C[M, N] = A * B (or C += A * B), B row-major with rows `ldb` apart, A read as A[i, p] =
// a[i * ai + p * ap] (either layout), C row-major. No packing: MR rows of A are broadcast
// against NR columns of a B row at a time (B rows are contiguous; the last, narrower panel
// loads with a mask), which suits the short and medium products of a CRNN step.
void gemmDirect(const float* a, int64_t ai, int64_t ap, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t M, int64_t N, int64_t K, bool accumulate) {
  for (int64_t j = 0; j < N; j += NR) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, N - j));
    const __m256i m0 = tailMask(std::min(nr, 8));
    const __m256i m1 = tailMask(std::max(0, nr - 8));
    for (int64_t i0 = 0; i0 < M; i0 += MR) {
      const int mr = static_cast<int>(std::min<int64_t>(MR, M - i0));
      const float* rows[MR];
      for (int r = 0; r < MR; r++) rows[r] = a + (i0 + std::min(r, mr - 1)) * ai;
      __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
      __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
      __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
      const float* bp = b + j;
      for (int64_t p = 0; p < K; p++, bp += ldb) {
        const __m256 b0 = nr >= 8 ? _mm256_loadu_ps(bp) : _mm256_maskload_ps(bp, m0);
        const __m256 b1 = nr >= 16 ? _mm256_loadu_ps(bp + 8) : _mm256_maskload_ps(bp + 8, m1);
        const int64_t q = p * ap;
        __m256 a0 = _mm256_broadcast_ss(rows[0] + q);
        __m256 a1 = _mm256_broadcast_ss(rows[1] + q);
        c00 = _mm256_fmadd_ps(a0, b0, c00);
        c01 = _mm256_fmadd_ps(a0, b1, c01);
        c10 = _mm256_fmadd_ps(a1, b0, c10);
        c11 = _mm256_fmadd_ps(a1, b1, c11);
        a0 = _mm256_broadcast_ss(rows[2] + q);
        a1 = _mm256_broadcast_ss(rows[3] + q);
        c20 = _mm256_fmadd_ps(a0, b0, c20);
        c21 = _mm256_fmadd_ps(a0, b1, c21);
        c30 = _mm256_fmadd_ps(a1, b0, c30);
        c31 = _mm256_fmadd_ps(a1, b1, c31);
        a0 = _mm256_broadcast_ss(rows[4] + q);
        a1 = _mm256_broadcast_ss(rows[5] + q);
        c40 = _mm256_fmadd_ps(a0, b0, c40);
        c41 = _mm256_fmadd_ps(a0, b1, c41);
        c50 = _mm256_fmadd_ps(a1, b0, c50);
        c51 = _mm256_fmadd_ps(a1, b1, c51);
      }
      alignas(32) float t[MR * NR];
      _mm256_store_ps(t, c00);
      _mm256_store_ps(t + 8, c01);
      _mm256_store_ps(t + 16, c10);
      _mm256_store_ps(t + 24, c11);
      _mm256_store_ps(t + 32, c20);
      _mm256_store_ps(t + 40, c21);
      _mm256_store_ps(t + 48, c30);
      _mm256_store_ps(t + 56, c31);
      _mm256_store_ps(t + 64, c40);
      _mm256_store_ps(t + 72, c41);
      _mm256_store_ps(t + 80, c50);
      _mm256_store_ps(t + 88, c51);
      for (int r = 0; r < mr; r++) {
        float* row = c + (i0 + r) * ldc + j;
        for (int q = 0; q < nr; q++) row[q] = (accumulate ? row[q] : 0.f) + t[r * NR + q];
      }
    }
  }
}

// C = op(A) * op(B) for row-major A [M, K] (or [K, M] transposed) and B [K, N] (or [N, K]).
// A transposed B is copied into rows first: the direct product needs B's rows contiguous.
void gemm(const float* a, bool ta, const float* b, bool tb, float* c, int64_t M, int64_t N, int64_t K, bool accumulate) {
  if (M == 0 || N == 0) return;
  std::vector<float> rowsOfB;
  if (tb) {
    rowsOfB.resize(static_cast<size_t>(K * N));
    for (int64_t jn = 0; jn < N; jn++) for (int64_t p = 0; p < K; p++) rowsOfB[p * N + jn] = b[jn * K + p];
    b = rowsOfB.data();
  }
  gemmDirect(a, ta ? 1 : K, ta ? M : 1, b, N, c, N, M, N, K, accumulate);
}

// The geometry of a NHWC convolution with an HWIO filter.
struct ConvShape {
  int64_t batch, height, width, channels;
  int64_t filterHeight, filterWidth, outChannels;
  int64_t strideH, strideW, padTop, padLeft, dilationH, dilationW;
  int64_t outHeight, outWidth;
};

// y = conv(x, w), computed as a direct convolution: for MR output pixels and NR output channels
// at a time, every filter tap and input channel broadcasts the pixels' input values (read in
// place: NHWC keeps a pixel's channels contiguous) against a row of the filter (packed once into
// NR-wide panels). No im2col copy of the input is made; taps outside the image read zeros.
void conv2d(const float* x, const float* w, float* y, const ConvShape& s) {
  const int64_t K = s.filterHeight * s.filterWidth * s.channels;
  const int64_t N = s.outChannels;
  const int64_t panels = (N + NR - 1) / NR;
  std::vector<float> packed(static_cast<size_t>(panels * K * NR));
  for (int64_t j = 0; j < panels; j++) {
    const Dense wv{w, N, false};
    packB(wv, 0, static_cast<int>(K), j * NR, static_cast<int>(std::min<int64_t>(NR, N - j * NR)), packed.data() + j * K * NR);
  }
  std::vector<float> zeros(static_cast<size_t>(s.channels), 0.f);
  const int64_t pixels = s.batch * s.outHeight * s.outWidth;
  const int64_t imageSize = s.height * s.width * s.channels;
  for (int64_t p0 = 0; p0 < pixels; p0 += MR) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, pixels - p0));
    int64_t base[MR], top[MR], left[MR];
    bool real[MR];
    for (int r = 0; r < MR; r++) {
      real[r] = r < mr;
      const int64_t n = real[r] ? p0 + r : p0;
      const int64_t ow = n % s.outWidth;
      const int64_t oh = (n / s.outWidth) % s.outHeight;
      base[r] = (n / (s.outWidth * s.outHeight)) * imageSize;
      top[r] = oh * s.strideH - s.padTop;
      left[r] = ow * s.strideW - s.padLeft;
    }
    for (int64_t j = 0; j < panels; j++) {
      __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
      __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
      __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
      const float* wp = packed.data() + j * K * NR;
      for (int64_t fh = 0; fh < s.filterHeight; fh++) {
        for (int64_t fw = 0; fw < s.filterWidth; fw++) {
          const float* src[MR];
          for (int r = 0; r < MR; r++) {
            const int64_t ih = top[r] + fh * s.dilationH;
            const int64_t iw = left[r] + fw * s.dilationW;
            src[r] = real[r] && ih >= 0 && ih < s.height && iw >= 0 && iw < s.width ? x + base[r] + (ih * s.width + iw) * s.channels : zeros.data();
          }
          for (int64_t ci = 0; ci < s.channels; ci++) {
            const __m256 b0 = _mm256_loadu_ps(wp);
            const __m256 b1 = _mm256_loadu_ps(wp + 8);
            wp += NR;
            __m256 a0 = _mm256_broadcast_ss(src[0] + ci);
            __m256 a1 = _mm256_broadcast_ss(src[1] + ci);
            c00 = _mm256_fmadd_ps(a0, b0, c00);
            c01 = _mm256_fmadd_ps(a0, b1, c01);
            c10 = _mm256_fmadd_ps(a1, b0, c10);
            c11 = _mm256_fmadd_ps(a1, b1, c11);
            a0 = _mm256_broadcast_ss(src[2] + ci);
            a1 = _mm256_broadcast_ss(src[3] + ci);
            c20 = _mm256_fmadd_ps(a0, b0, c20);
            c21 = _mm256_fmadd_ps(a0, b1, c21);
            c30 = _mm256_fmadd_ps(a1, b0, c30);
            c31 = _mm256_fmadd_ps(a1, b1, c31);
            a0 = _mm256_broadcast_ss(src[4] + ci);
            a1 = _mm256_broadcast_ss(src[5] + ci);
            c40 = _mm256_fmadd_ps(a0, b0, c40);
            c41 = _mm256_fmadd_ps(a0, b1, c41);
            c50 = _mm256_fmadd_ps(a1, b0, c50);
            c51 = _mm256_fmadd_ps(a1, b1, c51);
          }
        }
      }
      alignas(32) float t[MR * NR];
      _mm256_store_ps(t, c00);
      _mm256_store_ps(t + 8, c01);
      _mm256_store_ps(t + 16, c10);
      _mm256_store_ps(t + 24, c11);
      _mm256_store_ps(t + 32, c20);
      _mm256_store_ps(t + 40, c21);
      _mm256_store_ps(t + 48, c30);
      _mm256_store_ps(t + 56, c31);
      _mm256_store_ps(t + 64, c40);
      _mm256_store_ps(t + 72, c41);
      _mm256_store_ps(t + 80, c50);
      _mm256_store_ps(t + 88, c51);
      const int nr = static_cast<int>(std::min<int64_t>(NR, N - j * NR));
      for (int r = 0; r < mr; r++) std::memcpy(y + (p0 + r) * N + j * NR, t + r * NR, nr * sizeof(float));
    }
  }
}

#pragma GCC pop_options

// ---- N-API glue ----

void throwError(napi_env env, const std::string& message) { napi_throw_error(env, nullptr, message.c_str()); }

bool readInt(napi_env env, napi_value value, int64_t* out) { return napi_get_value_int64(env, value, out) == napi_ok; }

// The float pointer at `byteOffset` of the ArrayBuffer, checked to hold `count` floats.
float* floatsAt(napi_env env, void* data, size_t length, int64_t byteOffset, int64_t count, const char* what) {
  if (byteOffset < 0 || count < 0 || byteOffset % 4 != 0 || static_cast<uint64_t>(byteOffset) + static_cast<uint64_t>(count) * 4 > length) {
    throwError(env, std::string("glyphlab native kernel: ") + what + " lies outside the heap");
    return nullptr;
  }
  return reinterpret_cast<float*>(static_cast<char*>(data) + byteOffset);
}

// gemm(heap, aOffset, bOffset, cOffset, M, N, K, transposeA, transposeB, accumulate, batch,
//      aBatchStride, bBatchStride): C[i] = op(A[i]) * op(B[i]) for each of `batch` products
// (strides in floats; 0 broadcasts one operand), row-major.
napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value args[13];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != 13) {
    throwError(env, "gemm takes 13 arguments");
    return nullptr;
  }
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_arraybuffer_info(env, args[0], &data, &length) != napi_ok) {
    throwError(env, "gemm: the first argument must be the heap's ArrayBuffer");
    return nullptr;
  }
  int64_t v[12];
  for (int i = 0; i < 12; i++) {
    if (!readInt(env, args[i + 1], &v[i])) {
      throwError(env, "gemm: every argument after the heap must be a number");
      return nullptr;
    }
  }
  const int64_t M = v[3], N = v[4], K = v[5], batch = v[9], aStride = v[10], bStride = v[11];
  const bool ta = v[6] != 0, tb = v[7] != 0, accumulate = v[8] != 0;
  if (M < 0 || N < 0 || K < 0 || batch < 1) {
    throwError(env, "gemm: negative sizes or an empty batch");
    return nullptr;
  }
  const int64_t aLast = (batch - 1) * aStride + M * K, bLast = (batch - 1) * bStride + K * N;
  float* a = floatsAt(env, data, length, v[0], aLast, "A");
  float* b = a ? floatsAt(env, data, length, v[1], bLast, "B") : nullptr;
  float* c = b ? floatsAt(env, data, length, v[2], batch * M * N, "C") : nullptr;
  if (!c) return nullptr;
  for (int64_t i = 0; i < batch; i++) gemm(a + i * aStride, ta, b + i * bStride, tb, c + i * M * N, M, N, K, accumulate);
  return nullptr;
}

// conv2d(heap, xOffset, filterOffset, yOffset, [batch, height, width, inChannels],
//        [filterHeight, filterWidth, outChannels], [strideH, strideW, padTop, padLeft,
//        dilationH, dilationW], [outHeight, outWidth]): y = conv(x, filter), NHWC and HWIO.
napi_value Conv2d(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value args[8];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != 8) {
    throwError(env, "conv2d takes 8 arguments");
    return nullptr;
  }
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_arraybuffer_info(env, args[0], &data, &length) != napi_ok) {
    throwError(env, "conv2d: the first argument must be the heap's ArrayBuffer");
    return nullptr;
  }
  int64_t offsets[3];
  for (int i = 0; i < 3; i++) {
    if (!readInt(env, args[i + 1], &offsets[i])) {
      throwError(env, "conv2d: offsets must be numbers");
      return nullptr;
    }
  }
  const uint32_t lengths[4] = {4, 3, 6, 2};
  int64_t values[4][6];
  for (int g = 0; g < 4; g++) {
    for (uint32_t i = 0; i < lengths[g]; i++) {
      napi_value item;
      if (napi_get_element(env, args[4 + g], i, &item) != napi_ok || !readInt(env, item, &values[g][i])) {
        throwError(env, "conv2d: shapes and geometry must be arrays of numbers");
        return nullptr;
      }
    }
  }
  const int64_t batch = values[0][0], height = values[0][1], width = values[0][2], channels = values[0][3];
  const int64_t fh = values[1][0], fw = values[1][1], outChannels = values[1][2];
  const int64_t outHeight = values[3][0], outWidth = values[3][1];
  for (int64_t s : {batch, height, width, channels, fh, fw, outChannels, outHeight, outWidth}) {
    if (s < 0) {
      throwError(env, "conv2d: negative size");
      return nullptr;
    }
  }
  for (int i = 0; i < 6; i++) {
    if ((i < 2 || i >= 4) && values[2][i] < 1) {
      throwError(env, "conv2d: strides and dilations must be positive");
      return nullptr;
    }
  }
  float* x = floatsAt(env, data, length, offsets[0], batch * height * width * channels, "x");
  float* w = x ? floatsAt(env, data, length, offsets[1], fh * fw * channels * outChannels, "filter") : nullptr;
  float* y = w ? floatsAt(env, data, length, offsets[2], batch * outHeight * outWidth * outChannels, "y") : nullptr;
  if (!y) return nullptr;
  const ConvShape shape{batch, height, width, channels, fh, fw, outChannels, values[2][0], values[2][1], values[2][2], values[2][3], values[2][4], values[2][5], outHeight, outWidth};
  conv2d(x, w, y, shape);
  return nullptr;
}

// Whether this CPU runs the kernels (they use AVX2 and FMA instructions).
napi_value Supported(napi_env env, napi_callback_info) {
  __builtin_cpu_init();
  napi_value result;
  napi_get_boolean(env, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), &result);
  return result;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor properties[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"supported", nullptr, Supported, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}
