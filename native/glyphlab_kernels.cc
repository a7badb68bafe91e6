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
#include <cmath>
#include <limits>
#include <cstdint>
#include <cstring>
#include <memory>
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

// The MR x NR register tile of the product and the convolution: MR rows of two 8-float
// accumulators. Its loops have constant bounds and inline fully, so the accumulators stay in
// registers as if written out one by one.
struct Tile {
  __m256 acc[MR][2];

  Tile() {
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  }

  // acc[r] += rows[r][offset] * (b0, b1) for every row r.
  __attribute__((always_inline)) inline void add(const float* const rows[MR], int64_t offset, __m256 b0, __m256 b1) {
    for (int r = 0; r < MR; r++) {
      const __m256 a = _mm256_broadcast_ss(rows[r] + offset);
      acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
    }
  }

  // Writes the tile row-major into `t` (MR x NR floats, 32-byte aligned).
  __attribute__((always_inline)) inline void store(float* t) const {
    for (int r = 0; r < MR; r++) {
      _mm256_store_ps(t + r * NR, acc[r][0]);
      _mm256_store_ps(t + r * NR + 8, acc[r][1]);
    }
  }
};

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
      Tile tile;
      const float* bp = b + j;
      for (int64_t p = 0; p < K; p++, bp += ldb) {
        const __m256 b0 = nr >= 8 ? _mm256_loadu_ps(bp) : _mm256_maskload_ps(bp, m0);
        const __m256 b1 = nr >= 16 ? _mm256_loadu_ps(bp + 8) : _mm256_maskload_ps(bp + 8, m1);
        tile.add(rows, p * ap, b0, b1);
      }
      alignas(32) float t[MR * NR];
      tile.store(t);
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
  std::vector<float> rowsOfA;
  if (ta) {
    rowsOfA.resize(static_cast<size_t>(M * K));
    for (int64_t p = 0; p < K; p++) for (int64_t i = 0; i < M; i++) rowsOfA[i * K + p] = a[p * M + i];
    a = rowsOfA.data();
  }
  gemmDirect(a, K, 1, b, N, c, N, M, N, K, accumulate);
}

// The geometry of a NHWC convolution with an HWIO filter.
struct ConvShape {
  int64_t batch, height, width, channels;
  int64_t filterHeight, filterWidth, outChannels;
  int64_t strideH, strideW, padTop, padLeft, dilationH, dilationW;
  int64_t outHeight, outWidth;
};

// The sum of a vector's eight floats.
inline float horizontalSum(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// conv2d for outputs narrower than a vector (N < 8; the input gradient of a one-channel image
// is such a convolution): the register tile would compute 16 output channels for every one
// needed, so each output value is instead a dot product along the input channels, contiguous in
// NHWC, against the filter packed as [n][tap][channel] (channels padded to a multiple of 8).
template <int N>
void conv2dNarrow(const float* x, const float* w, float* y, const ConvShape& s) {
  const int64_t C = s.channels, taps = s.filterHeight * s.filterWidth;
  const int64_t padded = (C + 7) / 8 * 8;
  std::vector<float> packed(static_cast<size_t>(N * taps * padded), 0.f);
  for (int64_t n = 0; n < N; n++) {
    for (int64_t tap = 0; tap < taps; tap++) {
      for (int64_t c = 0; c < C; c++) packed[(n * taps + tap) * padded + c] = w[(tap * C + c) * N + n];
    }
  }
  const __m256i tail = tailMask(static_cast<int>(C % 8 == 0 ? 8 : C % 8));
  const int64_t imageSize = s.height * s.width * C;
  for (int64_t b = 0; b < s.batch; b++) {
    for (int64_t oh = 0; oh < s.outHeight; oh++) {
      for (int64_t ow = 0; ow < s.outWidth; ow++) {
        __m256 acc[N];
        for (int n = 0; n < N; n++) acc[n] = _mm256_setzero_ps();
        for (int64_t fh = 0; fh < s.filterHeight; fh++) {
          const int64_t ih = oh * s.strideH - s.padTop + fh * s.dilationH;
          if (ih < 0 || ih >= s.height) continue;
          for (int64_t fw = 0; fw < s.filterWidth; fw++) {
            const int64_t iw = ow * s.strideW - s.padLeft + fw * s.dilationW;
            if (iw < 0 || iw >= s.width) continue;
            const float* src = x + b * imageSize + (ih * s.width + iw) * C;
            const float* wp = packed.data() + (fh * s.filterWidth + fw) * padded;
            int64_t c0 = 0;
            for (; c0 + 8 <= C; c0 += 8) {
              const __m256 v = _mm256_loadu_ps(src + c0);
              for (int n = 0; n < N; n++) acc[n] = _mm256_fmadd_ps(v, _mm256_loadu_ps(wp + n * taps * padded + c0), acc[n]);
            }
            if (c0 < C) {
              const __m256 v = _mm256_maskload_ps(src + c0, tail);
              for (int n = 0; n < N; n++) acc[n] = _mm256_fmadd_ps(v, _mm256_loadu_ps(wp + n * taps * padded + c0), acc[n]);
            }
          }
        }
        float* out = y + ((b * s.outHeight + oh) * s.outWidth + ow) * N;
        for (int n = 0; n < N; n++) out[n] = horizontalSum(acc[n]);
      }
    }
  }
}

// Dispatches conv2dNarrow on the output width (1 to 7), so that its accumulators are registers.
void conv2dNarrowAny(const float* x, const float* w, float* y, const ConvShape& s) {
  switch (s.outChannels) {
    case 1: return conv2dNarrow<1>(x, w, y, s);
    case 2: return conv2dNarrow<2>(x, w, y, s);
    case 3: return conv2dNarrow<3>(x, w, y, s);
    case 4: return conv2dNarrow<4>(x, w, y, s);
    case 5: return conv2dNarrow<5>(x, w, y, s);
    case 6: return conv2dNarrow<6>(x, w, y, s);
    default: return conv2dNarrow<7>(x, w, y, s);
  }
}

// y = conv(x, w), computed as a direct convolution: for MR output pixels and NR output channels
// at a time, every filter tap and input channel broadcasts the pixels' input values (read in
// place: NHWC keeps a pixel's channels contiguous) against a row of the filter (packed once into
// NR-wide panels). No im2col copy of the input is made; taps outside the image read zeros.
// Outputs under 8 channels go to conv2dNarrow instead.
void conv2d(const float* x, const float* w, float* y, const ConvShape& s) {
  if (s.outChannels >= 1 && s.outChannels < 8) {
    conv2dNarrowAny(x, w, y, s);
    return;
  }
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
      Tile tile;
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
            tile.add(src, ci, b0, b1);
          }
        }
      }
      alignas(32) float t[MR * NR];
      tile.store(t);
      const int nr = static_cast<int>(std::min<int64_t>(NR, N - j * NR));
      for (int r = 0; r < mr; r++) std::memcpy(y + (p0 + r) * N + j * NR, t + r * NR, nr * sizeof(float));
    }
  }
}


// dW = the filter gradient of conv2d: for every filter tap (fh, fw),
//   dW[fh, fw, ci, co] = sum over b, oh, ow of x[b, oh*sh + fh*dh - pt, ow*sw + fw*dw - pl, ci] * dy[b, oh, ow, co]
// which, for one output row (b, oh) and one tap, is a product X^T DY of the row's input pixels
// that the tap reads ([ow, ci], pixels sw*Ci floats apart) by the row's gradients ([ow, co]),
// added into the tap's [Ci, Co] block. Rows are visited in the outer loop, so their pixels and
// gradients stay in cache while every tap reads them, and dW (small) stays in cache throughout.
void conv2dBackpropFilter(const float* x, const float* dy, float* dw, const ConvShape& s) {
  const int64_t Ci = s.channels, Co = s.outChannels;
  std::fill(dw, dw + s.filterHeight * s.filterWidth * Ci * Co, 0.f);
  // First and end output column whose input column lies inside the image, per filter column.
  std::vector<int64_t> first(static_cast<size_t>(s.filterWidth)), end(static_cast<size_t>(s.filterWidth));
  for (int64_t fw = 0; fw < s.filterWidth; fw++) {
    const int64_t shift = fw * s.dilationW - s.padLeft;  // iw = ow * sw + shift
    first[fw] = shift >= 0 ? 0 : (-shift + s.strideW - 1) / s.strideW;
    end[fw] = std::min(s.outWidth, s.width - shift <= 0 ? 0 : (s.width - shift + s.strideW - 1) / s.strideW);
  }
  for (int64_t b = 0; b < s.batch; b++) {
    for (int64_t oh = 0; oh < s.outHeight; oh++) {
      const float* dyRow = dy + (b * s.outHeight + oh) * s.outWidth * Co;
      for (int64_t fh = 0; fh < s.filterHeight; fh++) {
        const int64_t ih = oh * s.strideH + fh * s.dilationH - s.padTop;
        if (ih < 0 || ih >= s.height) continue;
        const float* xRow = x + (b * s.height + ih) * s.width * Ci;
        for (int64_t fw = 0; fw < s.filterWidth; fw++) {
          const int64_t ow0 = first[fw], ow1 = end[fw];
          if (ow1 <= ow0) continue;
          const int64_t iw0 = ow0 * s.strideW + fw * s.dilationW - s.padLeft;
          float* tap = dw + (fh * s.filterWidth + fw) * Ci * Co;
          gemmDirect(xRow + iw0 * Ci, 1, s.strideW * Ci, dyRow + ow0 * Co, Co, tap, Co, Ci, Co, ow1 - ow0, true);
        }
      }
    }
  }
}

// ---- Elementwise kernels of a training step: batch norm, max-pool gradient, recurrences ----
// Ports of the JavaScript kernels in src/backend (wasm-batch-norm.ts, wasm-js-kernels.ts,
// wasm-rnn.ts), which stay the route where the module is absent; tests hold the two together.

// Per-channel sums over `rows` rows added into sums[0..C) and sums[C..2C): `addRow(r, first,
// second)` adds row r's two terms per channel. Float sums over blocks of rows (vectorised across
// channels), taken into the doubles per block: short enough that float rounding stays far below
// what batch statistics need, long enough to vectorise.
template <typename AddRow>
void blockedSums(int64_t rows, int64_t channels, double* sums, AddRow addRow) {
  constexpr int64_t block = 64;
  std::vector<float> first(channels), second(channels);
  for (int64_t start = 0; start < rows; start += block) {
    std::fill(first.begin(), first.end(), 0.f);
    std::fill(second.begin(), second.end(), 0.f);
    for (int64_t r = start, end = std::min(rows, start + block); r < end; r++) addRow(r, first.data(), second.data());
    for (int64_t c = 0; c < channels; c++) {
      sums[c] += first[c];
      sums[channels + c] += second[c];
    }
  }
}

// One Adam step over `count` values (training/fused-adam.ts): with g = gradient * gradientScale,
// m' = beta1 m + (1 - beta1) g, v' = beta2 v + (1 - beta2) g^2, and
// value' = value * decay - (learningRate / biasFix1) m' / (sqrt(v' / biasFix2) + epsilon).
// p = [learningRate, beta1, beta2, epsilon, biasFix1, biasFix2, decay, gradientScale].
void adamUpdate(const float* __restrict w, const float* __restrict g, const float* __restrict m, const float* __restrict v, float* __restrict w2,
                float* __restrict m2, float* __restrict v2, int64_t count, const double* p) {
  const float beta1 = static_cast<float>(p[1]), beta2 = static_cast<float>(p[2]), epsilon = static_cast<float>(p[3]);
  const float step = static_cast<float>(p[0] / p[4]), inverseFix2 = static_cast<float>(1.0 / p[5]);
  const float decay = static_cast<float>(p[6]), scale = static_cast<float>(p[7]);
  const float oneMinusBeta1 = 1.0f - beta1, oneMinusBeta2 = 1.0f - beta2;
  for (int64_t i = 0; i < count; i++) {
    const float gi = g[i] * scale;
    const float mi = beta1 * m[i] + oneMinusBeta1 * gi;
    const float vi = beta2 * v[i] + oneMinusBeta2 * gi * gi;
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = w[i] * decay - (step * mi) / (std::sqrt(vi * inverseFix2) + epsilon);
  }
}

// The sum of the squares of `count` values, accumulated in double.
double sumOfSquares(const float* __restrict x, int64_t count) {
  double total = 0;
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    float block = 0;
    for (int k = 0; k < 8; k++) block += x[i + k] * x[i + k];
    total += block;
  }
  for (; i < count; i++) total += static_cast<double>(x[i]) * x[i];
  return total;
}

// Per-channel sums of x and x^2 over `rows` rows of `channels` values (NHWC flattened), added
// into sum[0..C) and sum[C..2C).
void bnStats(const float* __restrict x, int64_t rows, int64_t channels, double* sums) {
  blockedSums(rows, channels, sums, [=](int64_t r, float* __restrict s, float* __restrict q) {
    const float* __restrict row = x + r * channels;
    for (int64_t c = 0; c < channels; c++) {
      s[c] += row[c];
      q[c] += row[c] * row[c];
    }
  });
}

// y = x * scale + shift per channel, with ReLU when asked.
void bnApply(const float* __restrict x, float* __restrict y, int64_t rows, int64_t channels, const float* scale, const float* shift, bool relu) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * channels;
    float* yr = y + r * channels;
    for (int64_t c = 0; c < channels; c++) {
      const float v = xr[c] * scale[c] + shift[c];
      yr[c] = relu ? std::max(v, 0.f) : v;
    }
  }
}

// Per-channel sums of g and g * (x - mean), g = dy where the ReLU passed (y > 0) or dy.
void bnGradStats(const float* __restrict x, const float* __restrict y, const float* __restrict dy, int64_t rows, int64_t channels, const float* __restrict mean, bool relu, double* sums) {
  blockedSums(rows, channels, sums, [=](int64_t r, float* __restrict sg, float* __restrict sgx) {
    const int64_t o = r * channels;
    for (int64_t c = 0; c < channels; c++) {
      const float g = relu && !(y[o + c] > 0.f) ? 0.f : dy[o + c];
      sg[c] += g;
      sgx[c] += g * (x[o + c] - mean[c]);
    }
  });
}

// dx = k * (g - a - (x - mean) * b) per channel.
void bnGradApply(const float* __restrict x, const float* __restrict y, const float* __restrict dy, float* __restrict dx, int64_t rows, int64_t channels, const float* k, const float* a, const float* b, const float* mean, bool relu) {
  for (int64_t r = 0; r < rows; r++) {
    const int64_t o = r * channels;
    for (int64_t c = 0; c < channels; c++) {
      const float g = relu && !(y[o + c] > 0.f) ? 0.f : dy[o + c];
      dx[o + c] = k[c] * (g - a[c] - (x[o + c] - mean[c]) * b[c]);
    }
  }
}

// maxPoolGradTiled for channels a multiple of 8, eight channels at a time: the window's maximum
// by strict comparison in window order (NaN never wins), then each position takes dy where it
// holds that maximum and no earlier position did: the same first-maximum rule as the scalar loop.
void maxPoolGradTiled8(const float* x, const float* dy, float* dx, int64_t batch, int64_t height, int64_t width, int64_t channels, int64_t fh, int64_t fw) {
  const int64_t outHeight = height / fh, outWidth = width / fw;
  const __m256 negativeInfinity = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t b = 0; b < batch; b++) {
    for (int64_t oh = 0; oh < outHeight; oh++) {
      for (int64_t ow = 0; ow < outWidth; ow++) {
        const int64_t corner = ((b * height + oh * fh) * width + ow * fw) * channels;
        const float* g = dy + ((b * outHeight + oh) * outWidth + ow) * channels;
        for (int64_t c = 0; c < channels; c += 8) {
          __m256 best = negativeInfinity;
          for (int64_t r = 0; r < fh; r++) {
            for (int64_t q = 0; q < fw; q++) {
              const __m256 v = _mm256_loadu_ps(x + corner + (r * width + q) * channels + c);
              best = _mm256_blendv_ps(best, v, _mm256_cmp_ps(v, best, _CMP_GT_OQ));
            }
          }
          // A window of -Infinity (or NaN) only has no maximum: nothing gets its gradient.
          __m256 open = _mm256_cmp_ps(best, negativeInfinity, _CMP_GT_OQ);
          const __m256 grad = _mm256_loadu_ps(g + c);
          for (int64_t r = 0; r < fh; r++) {
            for (int64_t q = 0; q < fw; q++) {
              const int64_t at = corner + (r * width + q) * channels + c;
              const __m256 hit = _mm256_and_ps(open, _mm256_cmp_ps(_mm256_loadu_ps(x + at), best, _CMP_EQ_OQ));
              _mm256_storeu_ps(dx + at, _mm256_and_ps(hit, grad));
              open = _mm256_andnot_ps(hit, open);
            }
          }
        }
      }
    }
  }
}

// The max-pool gradient of side-by-side windows (stride = window, no padding): dy to each
// window's first maximum (row-major), 0 elsewhere; a window of NaN or -Infinity gets zeros, and
// so do the rows and columns past the last whole window ('valid' pooling of an odd size).
void maxPoolGradTiled(const float* x, const float* dy, float* dx, int64_t batch, int64_t height, int64_t width, int64_t channels, int64_t fh, int64_t fw) {
  const int64_t outHeight = height / fh, outWidth = width / fw;
  if (height % fh != 0 || width % fw != 0) std::fill(dx, dx + batch * height * width * channels, 0.f);
  if (channels % 8 == 0) {
    maxPoolGradTiled8(x, dy, dx, batch, height, width, channels, fh, fw);
    return;
  }
  std::vector<float> best(channels);
  std::vector<int64_t> at(channels);
  for (int64_t b = 0; b < batch; b++) {
    for (int64_t oh = 0; oh < outHeight; oh++) {
      for (int64_t ow = 0; ow < outWidth; ow++) {
        const int64_t corner = ((b * height + oh * fh) * width + ow * fw) * channels;
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        std::fill(at.begin(), at.end(), -1);
        for (int64_t r = 0; r < fh; r++) {
          for (int64_t q = 0; q < fw; q++) {
            const int64_t base = corner + (r * width + q) * channels;
            for (int64_t c = 0; c < channels; c++) {
              const float v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                at[c] = base + c;
              }
              dx[base + c] = 0.f;
            }
          }
        }
        const int64_t dyBase = ((b * outHeight + oh) * outWidth + ow) * channels;
        for (int64_t c = 0; c < channels; c++) if (at[c] >= 0) dx[at[c]] = dy[dyBase + c];
      }
    }
  }
}

inline float sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }
inline float hardSigmoid(float v) { return std::min(1.f, std::max(0.f, 0.2f * v + 0.5f)); }
inline float gate(float v, bool hard) { return hard ? hardSigmoid(v) : sigmoid(v); }
inline float gateSlope(float y, bool hard) { return hard ? (y > 0.f && y < 1.f ? 0.2f : 0.f) : y * (1.f - y); }

// Vectorised activations for the recurrences' gates. exp(x) = 2^n * e^r with n = round(x / ln 2)
// and |r| <= ln 2 / 2, e^r from a degree-7 polynomial (the classic single-precision minimax fit,
// within 2 ulp of std::exp over the clamped range); the logistic and tanh follow from it.
__attribute__((always_inline)) inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.f)), _mm256_set1_ps(88.f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x - n ln 2, with ln 2 split in two so that n * ln2hi is exact.
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
  const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(scale));
}

__attribute__((always_inline)) inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|): no overflow, exact sign.
__attribute__((always_inline)) inline __m256 tanh8(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(0x80000000u))));
  const __m256 ax = _mm256_xor_ps(x, sign);
  const __m256 e = exp8(_mm256_mul_ps(ax, _mm256_set1_ps(-2.f)));
  const __m256 one = _mm256_set1_ps(1.f);
  return _mm256_xor_ps(_mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e)), sign);
}

// v[i] = gate(v[i]) (logistic, or the hard one) for i < n, in place.
void gatesInPlace(float* v, int64_t n, bool hard) {
  int64_t i = 0;
  if (!hard) for (; i + 8 <= n; i += 8) _mm256_storeu_ps(v + i, sigmoid8(_mm256_loadu_ps(v + i)));
  for (; i < n; i++) v[i] = gate(v[i], hard);
}

// v[i] = tanh(v[i]) for i < n, in place.
void tanhInPlace(float* v, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(v + i, tanh8(_mm256_loadu_ps(v + i)));
  for (; i < n; i++) v[i] = std::tanh(v[i]);
}

// The shapes of one direction of a recurrent layer: x [B, T, F], kernel [F, G], recurrent
// kernel [U, G], bias [G]; per-step values saved time-major in processing order.
struct RnnShape {
  int64_t batch, steps, features, units;
  bool reverse, hard;
  int64_t timeOf(int64_t s) const { return reverse ? steps - 1 - s : s; }
};

// The transpose of `rows` x `cols` row-major `m` (columns [c0, c0 + width)).
std::vector<float> transposeColumns(const float* m, int64_t rows, int64_t cols, int64_t c0, int64_t width) {
  std::vector<float> t(static_cast<size_t>(width * rows));
  for (int64_t r = 0; r < rows; r++) for (int64_t c = 0; c < width; c++) t[c * rows + r] = m[r * cols + c0 + c];
  return t;
}

// Each step's previous hidden state in processing order (0 at the first), [B*T, U] batch-major.
std::vector<float> previousStates(const float* h, const RnnShape& s) {
  std::vector<float> out(static_cast<size_t>(s.batch * s.steps * s.units), 0.f);
  for (int64_t b = 0; b < s.batch; b++) {
    for (int64_t t = 0; t < s.steps; t++) {
      const int64_t prev = s.reverse ? t + 1 : t - 1;
      if (prev >= 0 && prev < s.steps) std::memcpy(&out[(b * s.steps + t) * s.units], h + (b * s.steps + prev) * s.units, s.units * sizeof(float));
    }
  }
  return out;
}

// dx = dZ W^T, dW = X^T dZ, db = column sums of dZ (dZ [B*T, G] batch-major).
void inputGradients(const float* x, const float* kernel, const float* dZ, int64_t rows, int64_t features, int64_t gates, float* dx, float* dKernel, float* dBias) {
  gemm(dZ, false, kernel, true, dx, rows, features, gates, false);
  gemm(x, true, dZ, false, dKernel, features, gates, rows, false);
  std::vector<double> sums(gates, 0.0);
  for (int64_t r = 0; r < rows; r++) for (int64_t j = 0; j < gates; j++) sums[j] += dZ[r * gates + j];
  for (int64_t j = 0; j < gates; j++) dBias[j] = static_cast<float>(sums[j]);
}

void lstmForward(const float* x, const float* kernel, const float* rec, const float* bias, float* hOut, float* cOut, float* tanhOut, float* gateOut, const RnnShape& s) {
  const int64_t B = s.batch, T = s.steps, U = s.units, G = 4 * U;
  std::vector<float> proj(static_cast<size_t>(B * T * G)), z(static_cast<size_t>(B * G)), state(static_cast<size_t>(B * U), 0.f);
  gemm(x, false, kernel, false, proj.data(), B * T, G, s.features, false);
  for (int64_t st = 0; st < T; st++) {
    const int64_t t = s.timeOf(st);
    if (st > 0) gemm(state.data(), false, rec, false, z.data(), B, G, U, false);
    for (int64_t b = 0; b < B; b++) {
      const float* p = &proj[(b * T + t) * G];
      float* zr = &z[b * G];
      float* g = gateOut + (st * B + b) * G;
      const float* cPrev = st > 0 ? cOut + ((st - 1) * B + b) * U : nullptr;
      // Gates i, f, g, o: pre-activations, then the logistic on i and f, tanh on g, the logistic on o.
      for (int64_t j = 0; j < G; j++) g[j] = p[j] + bias[j] + (st > 0 ? zr[j] : 0.f);
      gatesInPlace(g, 2 * U, s.hard);
      tanhInPlace(g + 2 * U, U);
      gatesInPlace(g + 3 * U, U, s.hard);
      float* c = cOut + (st * B + b) * U;
      float* tc = tanhOut + (st * B + b) * U;
      for (int64_t j = 0; j < U; j++) tc[j] = c[j] = g[U + j] * (cPrev ? cPrev[j] : 0.f) + g[j] * g[2 * U + j];
      tanhInPlace(tc, U);
      for (int64_t j = 0; j < U; j++) {
        const float h = g[3 * U + j] * tc[j];
        hOut[(b * T + t) * U + j] = h;
        state[b * U + j] = h;
      }
    }
  }
}

void lstmBackward(const float* x, const float* kernel, const float* rec, const float* h, const float* cAll, const float* tanhAll, const float* gateAll, const float* dy, float* dx, float* dKernel, float* dRec, float* dBias, const RnnShape& s) {
  const int64_t B = s.batch, T = s.steps, U = s.units, G = 4 * U, rows = B * T;
  const std::vector<float> recT = transposeColumns(rec, U, G, 0, G);
  // dZ: every entry is written before it is read, so no zero fill.
  const std::unique_ptr<float[]> dZ(new float[rows * G]);
  std::vector<float> step(static_cast<size_t>(B * G)), dc(static_cast<size_t>(B * U), 0.f), dhRec(static_cast<size_t>(B * U), 0.f);
  for (int64_t st = T - 1; st >= 0; st--) {
    const int64_t t = s.timeOf(st);
    for (int64_t b = 0; b < B; b++) {
      const float* g = gateAll + (st * B + b) * G;
      float* dz = dZ.get() + (b * T + t) * G;
      float* ds = &step[b * G];
      for (int64_t j = 0; j < U; j++) {
        const float dh = dy[(b * T + t) * U + j] + (st < T - 1 ? dhRec[b * U + j] : 0.f);
        const float i = g[j], f = g[U + j], gg = g[2 * U + j], o = g[3 * U + j];
        const float tc = tanhAll[(st * B + b) * U + j];
        const float cPrev = st > 0 ? cAll[((st - 1) * B + b) * U + j] : 0.f;
        const float dcT = dc[b * U + j] + dh * o * (1.f - tc * tc);
        ds[j] = dz[j] = dcT * gg * gateSlope(i, s.hard);
        ds[U + j] = dz[U + j] = dcT * cPrev * gateSlope(f, s.hard);
        ds[2 * U + j] = dz[2 * U + j] = dcT * i * (1.f - gg * gg);
        ds[3 * U + j] = dz[3 * U + j] = dh * tc * gateSlope(o, s.hard);
        dc[b * U + j] = dcT * f;
      }
    }
    if (st > 0) gemm(step.data(), false, recT.data(), false, dhRec.data(), B, U, G, false);
  }
  const std::vector<float> previous = previousStates(h, s);
  inputGradients(x, kernel, dZ.get(), rows, s.features, G, dx, dKernel, dBias);
  gemm(previous.data(), true, dZ.get(), false, dRec, U, G, rows, false);
}

void gruForward(const float* x, const float* kernel, const float* rec, const float* bias, float* hOut, float* gateOut, const RnnShape& s) {
  const int64_t B = s.batch, T = s.steps, U = s.units, G = 3 * U;
  std::vector<float> proj(static_cast<size_t>(B * T * G)), zr(static_cast<size_t>(B * 2 * U)), cand(static_cast<size_t>(B * U));
  std::vector<float> state(static_cast<size_t>(B * U), 0.f), reset(static_cast<size_t>(B * U), 0.f);
  gemm(x, false, kernel, false, proj.data(), B * T, G, s.features, false);
  for (int64_t st = 0; st < T; st++) {
    const int64_t t = s.timeOf(st);
    // The gates' recurrent part reads the first 2U columns of the recurrent kernel in place.
    if (st > 0) gemmDirect(state.data(), U, 1, rec, G, zr.data(), 2 * U, B, 2 * U, U, false);
    for (int64_t b = 0; b < B; b++) {
      const float* p = &proj[(b * T + t) * G];
      float* g = gateOut + (st * B + b) * G;
      for (int64_t j = 0; j < 2 * U; j++) g[j] = p[j] + bias[j] + (st > 0 ? zr[b * 2 * U + j] : 0.f);
      gatesInPlace(g, 2 * U, s.hard);
      for (int64_t j = 0; j < U; j++) reset[b * U + j] = st > 0 ? g[U + j] * state[b * U + j] : 0.f;
    }
    if (st > 0) gemmDirect(reset.data(), U, 1, rec + 2 * U, G, cand.data(), U, B, U, U, false);
    for (int64_t b = 0; b < B; b++) {
      const float* p = &proj[(b * T + t) * G];
      float* g = gateOut + (st * B + b) * G;
      for (int64_t j = 0; j < U; j++) g[2 * U + j] = p[2 * U + j] + bias[2 * U + j] + (st > 0 ? cand[b * U + j] : 0.f);
      tanhInPlace(g + 2 * U, U);
      for (int64_t j = 0; j < U; j++) {
        const float c = g[2 * U + j];
        const float z = g[j];
        const float hPrev = st > 0 ? state[b * U + j] : 0.f;
        const float hNew = z * hPrev + (1.f - z) * c;
        hOut[(b * T + t) * U + j] = hNew;
        state[b * U + j] = hNew;
      }
    }
  }
}

void gruBackward(const float* x, const float* kernel, const float* rec, const float* h, const float* gateAll, const float* dy, float* dx, float* dKernel, float* dRec, float* dBias, const RnnShape& s) {
  const int64_t B = s.batch, T = s.steps, U = s.units, G = 3 * U, rows = B * T;
  const std::vector<float> gatesT = transposeColumns(rec, U, G, 0, 2 * U);
  const std::vector<float> candT = transposeColumns(rec, U, G, 2 * U, U);
  const std::vector<float> previous = previousStates(h, s);
  // Every entry of these is written before it is read: no zero fill.
  const std::unique_ptr<float[]> dZ(new float[rows * G]), resetPrev(new float[rows * U]);
  std::vector<float> dCandStep(static_cast<size_t>(B * U)), dGatesStep(static_cast<size_t>(B * 2 * U)), dResetH(static_cast<size_t>(B * U)), dh(static_cast<size_t>(B * U));
  std::vector<float> carry(static_cast<size_t>(B * U), 0.f), dhRec(static_cast<size_t>(B * U), 0.f);
  for (int64_t st = T - 1; st >= 0; st--) {
    const int64_t t = s.timeOf(st);
    for (int64_t b = 0; b < B; b++) {
      const float* g = gateAll + (st * B + b) * G;
      const int64_t row = b * T + t;
      for (int64_t j = 0; j < U; j++) {
        const int64_t u = b * U + j;
        const float d = dy[row * U + j] + carry[u] + (st < T - 1 ? dhRec[u] : 0.f);
        dh[u] = d;
        const float z = g[j], c = g[2 * U + j];
        const float dzh = d * (1.f - z) * (1.f - c * c);
        dCandStep[u] = dzh;
        dZ[row * G + 2 * U + j] = dzh;
        resetPrev[row * U + j] = g[U + j] * previous[row * U + j];
      }
    }
    gemm(dCandStep.data(), false, candT.data(), false, dResetH.data(), B, U, U, false);
    for (int64_t b = 0; b < B; b++) {
      const float* g = gateAll + (st * B + b) * G;
      const int64_t row = b * T + t;
      for (int64_t j = 0; j < U; j++) {
        const int64_t u = b * U + j;
        const float z = g[j], r = g[U + j], c = g[2 * U + j];
        const float hPrev = previous[row * U + j];
        const float d = dh[u], dr = dResetH[u];
        const float dzz = d * (hPrev - c) * gateSlope(z, s.hard);
        const float dzr = dr * hPrev * gateSlope(r, s.hard);
        dGatesStep[b * 2 * U + j] = dZ[row * G + j] = dzz;
        dGatesStep[b * 2 * U + U + j] = dZ[row * G + U + j] = dzr;
        carry[u] = d * z + dr * r;
      }
    }
    if (st > 0) gemm(dGatesStep.data(), false, gatesT.data(), false, dhRec.data(), B, U, 2 * U, false);
  }
  inputGradients(x, kernel, dZ.get(), rows, s.features, G, dx, dKernel, dBias);
  // The recurrent kernel's gradient, written in place: its gate columns from the previous
  // states, its candidate columns from the reset previous states (both against dZ's columns).
  const std::vector<float> previousT = transposeColumns(previous.data(), rows, U, 0, U);
  const std::vector<float> resetPrevT = transposeColumns(resetPrev.get(), rows, U, 0, U);
  gemmDirect(previousT.data(), rows, 1, dZ.get(), G, dRec, G, U, 2 * U, rows, false);
  gemmDirect(resetPrevT.data(), rows, 1, dZ.get() + 2 * U, G, dRec + 2 * U, G, U, U, rows, false);
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

// ---- Glue of the elementwise and recurrent kernels ----

// Reads `count` numbers from the JS array `value` into `out`.
bool readInts(napi_env env, napi_value value, int64_t* out, uint32_t count) {
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    if (napi_get_element(env, value, i, &item) != napi_ok || !readInt(env, item, &out[i])) return false;
  }
  return true;
}

// A typed array's data, checked to be of `type` with at least `count` elements.
void* typedArray(napi_env env, napi_value value, napi_typedarray_type type, int64_t count, const char* what) {
  napi_typedarray_type actual;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &actual, &length, &data, nullptr, nullptr) != napi_ok || actual != type || static_cast<int64_t>(length) < count) {
    throwError(env, std::string("glyphlab native kernel: ") + what + " must be a typed array of the right type and length");
    return nullptr;
  }
  return data;
}

// The arguments of a kernel call: the heap, then numbers and arrays as the kernel reads them.
struct Call {
  napi_env env;
  napi_value args[16];
  size_t argc = 16;
  void* heap = nullptr;
  size_t length = 0;
  bool ok = true;
  Call(napi_env e, napi_callback_info info, size_t expected, const char* name) : env(e) {
    napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
    if (argc != expected) {
      fail(std::string(name) + " takes " + std::to_string(expected) + " arguments");
    } else if (napi_get_arraybuffer_info(env, args[0], &heap, &length) != napi_ok) {
      fail(std::string(name) + ": the first argument must be the heap's ArrayBuffer");
    }
  }
  void fail(const std::string& message) {
    if (ok) throwError(env, message);
    ok = false;
  }
  int64_t number(size_t i) {
    int64_t v = 0;
    if (ok && !readInt(env, args[i], &v)) fail("glyphlab native kernel: argument " + std::to_string(i) + " must be a number");
    return v;
  }
  float* floats(int64_t offset, int64_t count, const char* what) {
    if (!ok) return nullptr;
    float* p = floatsAt(env, heap, length, offset, count, what);
    if (!p) ok = false;
    return p;
  }
  template <typename T>
  T* array(size_t i, napi_typedarray_type type, int64_t count, const char* what) {
    if (!ok) return nullptr;
    void* p = typedArray(env, args[i], type, count, what);
    if (!p) ok = false;
    return static_cast<T*>(p);
  }
};

// The geometry arguments of the convolution kernels (arguments 4 to 7): [batch, height, width,
// inChannels], [filterHeight, filterWidth, outChannels], [strideH, strideW, padTop, padLeft,
// dilationH, dilationW], [outHeight, outWidth]. Throws (through `c`) and returns false when bad.
bool convArgs(Call& c, const char* name, ConvShape* shape) {
  int64_t input[4], filter[3], geometry[6], output[2];
  if (!c.ok) return false;
  const std::string kernel(name);
  if (!readInts(c.env, c.args[4], input, 4) || !readInts(c.env, c.args[5], filter, 3) || !readInts(c.env, c.args[6], geometry, 6) ||
      !readInts(c.env, c.args[7], output, 2)) {
    c.fail(kernel + ": shapes and geometry must be arrays of numbers");
    return false;
  }
  for (int64_t size : {input[0], input[1], input[2], input[3], filter[0], filter[1], filter[2], output[0], output[1]}) {
    if (size < 0) {
      c.fail(kernel + ": negative size");
      return false;
    }
  }
  if (geometry[0] < 1 || geometry[1] < 1 || geometry[4] < 1 || geometry[5] < 1) {
    c.fail(kernel + ": strides and dilations must be positive");
    return false;
  }
  *shape = ConvShape{input[0], input[1], input[2], input[3], filter[0], filter[1], filter[2], geometry[0], geometry[1], geometry[2], geometry[3], geometry[4], geometry[5], output[0], output[1]};
  return true;
}

int64_t convInputSize(const ConvShape& s) { return s.batch * s.height * s.width * s.channels; }
int64_t convFilterSize(const ConvShape& s) { return s.filterHeight * s.filterWidth * s.channels * s.outChannels; }
int64_t convOutputSize(const ConvShape& s) { return s.batch * s.outHeight * s.outWidth * s.outChannels; }

// conv2d(heap, xOffset, filterOffset, yOffset, geometry (see convArgs)): y = conv(x, filter),
// NHWC and HWIO.
napi_value Conv2d(napi_env env, napi_callback_info info) {
  Call c(env, info, 8, "conv2d");
  ConvShape s{};
  if (!convArgs(c, "conv2d", &s)) return nullptr;
  const float* x = c.floats(c.number(1), convInputSize(s), "x");
  const float* w = c.floats(c.number(2), convFilterSize(s), "filter");
  float* y = c.floats(c.number(3), convOutputSize(s), "y");
  if (c.ok) conv2d(x, w, y, s);
  return nullptr;
}

// conv2dBackpropFilter(heap, xOffset, dyOffset, dwOffset, geometry (see convArgs)): the filter
// gradient dW of conv2d from x and dy.
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  Call c(env, info, 8, "conv2dBackpropFilter");
  ConvShape s{};
  if (!convArgs(c, "conv2dBackpropFilter", &s)) return nullptr;
  const float* x = c.floats(c.number(1), convInputSize(s), "x");
  const float* dy = c.floats(c.number(2), convOutputSize(s), "dy");
  float* dw = c.floats(c.number(3), convFilterSize(s), "dW");
  if (c.ok) conv2dBackpropFilter(x, dy, dw, s);
  return nullptr;
}

// adamUpdate(heap, [value, gradient, m, v, valueOut, mOut, vOut] offsets, count, params (Float64Array, see adamUpdate)).
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  Call c(env, info, 4, "adamUpdate");
  int64_t offsets[7];
  if (c.ok && !readInts(env, c.args[1], offsets, 7)) c.fail("adamUpdate: the offsets must be an array of 7 numbers");
  const int64_t count = c.number(2);
  const double* params = c.array<double>(3, napi_float64_array, 8, "params");
  const float* w = c.floats(offsets[0], count, "value");
  const float* g = c.floats(offsets[1], count, "gradient");
  const float* m = c.floats(offsets[2], count, "m");
  const float* v = c.floats(offsets[3], count, "v");
  float* w2 = c.floats(offsets[4], count, "the new value");
  float* m2 = c.floats(offsets[5], count, "the new m");
  float* v2 = c.floats(offsets[6], count, "the new v");
  if (c.ok) adamUpdate(w, g, m, v, w2, m2, v2, count, params);
  return nullptr;
}

// sumSlots(heap, outOffset, slots, start, count): out[i] = slots[0][start + i] + slots[1][start + i]
// + ... in slot order, for `count` values; `slots` is an array of Float32Arrays (the replicas'
// gradient slots in shared memory), the output on the wasm heap.
napi_value SumSlots(napi_env env, napi_callback_info info) {
  Call c(env, info, 5, "sumSlots");
  const int64_t start = c.number(3), count = c.number(4);
  float* out = c.floats(c.number(1), count, "out");
  uint32_t slotCount = 0;
  if (c.ok && (napi_get_array_length(env, c.args[2], &slotCount) != napi_ok || slotCount == 0)) c.fail("sumSlots: slots must be a non-empty array of Float32Arrays");
  if (!c.ok || start < 0) {
    if (c.ok) c.fail("sumSlots: negative start");
    return nullptr;
  }
  std::vector<const float*> slots(slotCount);
  for (uint32_t r = 0; r < slotCount; r++) {
    napi_value slot;
    if (napi_get_element(env, c.args[2], r, &slot) != napi_ok) {
      c.fail("sumSlots: cannot read a slot");
      return nullptr;
    }
    const float* data = static_cast<const float*>(typedArray(env, slot, napi_float32_array, start + count, "every slot"));
    if (!data) return nullptr;
    slots[r] = data + start;
  }
  std::memcpy(out, slots[0], count * sizeof(float));
  for (uint32_t r = 1; r < slotCount; r++) {
    const float* __restrict s = slots[r];
    for (int64_t i = 0; i < count; i++) out[i] += s[i];
  }
  return nullptr;
}

// sumOfSquares(heap, offset, count): the sum of the squares of `count` floats, as a number.
napi_value SumOfSquares(napi_env env, napi_callback_info info) {
  Call c(env, info, 3, "sumOfSquares");
  const int64_t count = c.number(2);
  const float* x = c.floats(c.number(1), count, "x");
  if (!c.ok) return nullptr;
  napi_value result;
  napi_create_double(env, sumOfSquares(x, count), &result);
  return result;
}

napi_value BnStats(napi_env env, napi_callback_info info) {
  Call c(env, info, 5, "bnStats");
  const int64_t rows = c.number(2), channels = c.number(3);
  const float* x = c.floats(c.number(1), rows * channels, "x");
  double* sums = c.array<double>(4, napi_float64_array, 2 * channels, "sums");
  if (c.ok) bnStats(x, rows, channels, sums);
  return nullptr;
}

napi_value BnApply(napi_env env, napi_callback_info info) {
  Call c(env, info, 8, "bnApply");
  const int64_t rows = c.number(3), channels = c.number(4);
  const float* x = c.floats(c.number(1), rows * channels, "x");
  float* y = c.floats(c.number(2), rows * channels, "y");
  const float* scale = c.array<float>(5, napi_float32_array, channels, "scale");
  const float* shift = c.array<float>(6, napi_float32_array, channels, "shift");
  const bool relu = c.number(7) != 0;
  if (c.ok) bnApply(x, y, rows, channels, scale, shift, relu);
  return nullptr;
}

napi_value BnGradStats(napi_env env, napi_callback_info info) {
  Call c(env, info, 9, "bnGradStats");
  const int64_t rows = c.number(4), channels = c.number(5);
  const float* x = c.floats(c.number(1), rows * channels, "x");
  const float* y = c.floats(c.number(2), rows * channels, "y");
  const float* dy = c.floats(c.number(3), rows * channels, "dy");
  const float* mean = c.array<float>(6, napi_float32_array, channels, "mean");
  const bool relu = c.number(7) != 0;
  double* sums = c.array<double>(8, napi_float64_array, 2 * channels, "sums");
  if (c.ok) bnGradStats(x, y, dy, rows, channels, mean, relu, sums);
  return nullptr;
}

napi_value BnGradApply(napi_env env, napi_callback_info info) {
  Call c(env, info, 12, "bnGradApply");
  const int64_t rows = c.number(5), channels = c.number(6);
  const float* x = c.floats(c.number(1), rows * channels, "x");
  const float* y = c.floats(c.number(2), rows * channels, "y");
  const float* dy = c.floats(c.number(3), rows * channels, "dy");
  float* dx = c.floats(c.number(4), rows * channels, "dx");
  const float* k = c.array<float>(7, napi_float32_array, channels, "k");
  const float* a = c.array<float>(8, napi_float32_array, channels, "a");
  const float* b = c.array<float>(9, napi_float32_array, channels, "b");
  const float* mean = c.array<float>(10, napi_float32_array, channels, "mean");
  const bool relu = c.number(11) != 0;
  if (c.ok) bnGradApply(x, y, dy, dx, rows, channels, k, a, b, mean, relu);
  return nullptr;
}

napi_value MaxPoolGradTiled(napi_env env, napi_callback_info info) {
  Call c(env, info, 10, "maxPoolGradTiled");
  const int64_t batch = c.number(4), height = c.number(5), width = c.number(6), channels = c.number(7), fh = c.number(8), fw = c.number(9);
  if (c.ok && (fh < 1 || fw < 1 || height < fh || width < fw)) c.fail("maxPoolGradTiled: the input must hold at least one window");
  const int64_t size = batch * height * width * channels;
  const float* x = c.floats(c.number(1), size, "x");
  const float* dy = c.floats(c.number(2), fh > 0 && fw > 0 ? batch * (height / fh) * (width / fw) * channels : 0, "dy");
  float* dx = c.floats(c.number(3), size, "dx");
  if (c.ok) maxPoolGradTiled(x, dy, dx, batch, height, width, channels, fh, fw);
  return nullptr;
}

// Recurrent kernels: (heap, offsets[], [batch, steps, features, units, reverse, hardSigmoid]).
bool rnnArgs(Call& c, uint32_t operands, int64_t* offsets, RnnShape* shape) {
  int64_t dims[6];
  if (!c.ok) return false;
  if (!readInts(c.env, c.args[1], offsets, operands) || !readInts(c.env, c.args[2], dims, 6)) {
    c.fail("glyphlab native recurrent kernel: offsets and dimensions must be arrays of numbers");
    return false;
  }
  *shape = RnnShape{dims[0], dims[1], dims[2], dims[3], dims[4] != 0, dims[5] != 0};
  if (dims[0] < 1 || dims[1] < 1 || dims[2] < 1 || dims[3] < 1) {
    c.fail("glyphlab native recurrent kernel: sizes must be positive");
    return false;
  }
  return true;
}

napi_value LstmForward(napi_env env, napi_callback_info info) {
  Call c(env, info, 3, "lstmForward");
  int64_t o[8];
  RnnShape s{};
  if (!rnnArgs(c, 8, o, &s)) return nullptr;
  const int64_t B = s.batch, T = s.steps, F = s.features, U = s.units, G = 4 * U;
  const float* x = c.floats(o[0], B * T * F, "x");
  const float* kernel = c.floats(o[1], F * G, "kernel");
  const float* rec = c.floats(o[2], U * G, "recurrent kernel");
  const float* bias = c.floats(o[3], G, "bias");
  float* h = c.floats(o[4], B * T * U, "h");
  float* cell = c.floats(o[5], T * B * U, "c");
  float* tanhC = c.floats(o[6], T * B * U, "tanh(c)");
  float* gates = c.floats(o[7], T * B * G, "gates");
  if (c.ok) lstmForward(x, kernel, rec, bias, h, cell, tanhC, gates, s);
  return nullptr;
}

napi_value LstmBackward(napi_env env, napi_callback_info info) {
  Call c(env, info, 3, "lstmBackward");
  int64_t o[12];
  RnnShape s{};
  if (!rnnArgs(c, 12, o, &s)) return nullptr;
  const int64_t B = s.batch, T = s.steps, F = s.features, U = s.units, G = 4 * U;
  const float* x = c.floats(o[0], B * T * F, "x");
  const float* kernel = c.floats(o[1], F * G, "kernel");
  const float* rec = c.floats(o[2], U * G, "recurrent kernel");
  const float* h = c.floats(o[3], B * T * U, "h");
  const float* cell = c.floats(o[4], T * B * U, "c");
  const float* tanhC = c.floats(o[5], T * B * U, "tanh(c)");
  const float* gates = c.floats(o[6], T * B * G, "gates");
  const float* dy = c.floats(o[7], B * T * U, "dy");
  float* dx = c.floats(o[8], B * T * F, "dx");
  float* dKernel = c.floats(o[9], F * G, "dKernel");
  float* dRec = c.floats(o[10], U * G, "dRecurrentKernel");
  float* dBias = c.floats(o[11], G, "dBias");
  if (c.ok) lstmBackward(x, kernel, rec, h, cell, tanhC, gates, dy, dx, dKernel, dRec, dBias, s);
  return nullptr;
}

napi_value GruForward(napi_env env, napi_callback_info info) {
  Call c(env, info, 3, "gruForward");
  int64_t o[6];
  RnnShape s{};
  if (!rnnArgs(c, 6, o, &s)) return nullptr;
  const int64_t B = s.batch, T = s.steps, F = s.features, U = s.units, G = 3 * U;
  const float* x = c.floats(o[0], B * T * F, "x");
  const float* kernel = c.floats(o[1], F * G, "kernel");
  const float* rec = c.floats(o[2], U * G, "recurrent kernel");
  const float* bias = c.floats(o[3], G, "bias");
  float* h = c.floats(o[4], B * T * U, "h");
  float* gates = c.floats(o[5], T * B * G, "gates");
  if (c.ok) gruForward(x, kernel, rec, bias, h, gates, s);
  return nullptr;
}

napi_value GruBackward(napi_env env, napi_callback_info info) {
  Call c(env, info, 3, "gruBackward");
  int64_t o[10];
  RnnShape s{};
  if (!rnnArgs(c, 10, o, &s)) return nullptr;
  const int64_t B = s.batch, T = s.steps, F = s.features, U = s.units, G = 3 * U;
  const float* x = c.floats(o[0], B * T * F, "x");
  const float* kernel = c.floats(o[1], F * G, "kernel");
  const float* rec = c.floats(o[2], U * G, "recurrent kernel");
  const float* h = c.floats(o[3], B * T * U, "h");
  const float* gates = c.floats(o[4], T * B * G, "gates");
  const float* dy = c.floats(o[5], B * T * U, "dy");
  float* dx = c.floats(o[6], B * T * F, "dx");
  float* dKernel = c.floats(o[7], F * G, "dKernel");
  float* dRec = c.floats(o[8], U * G, "dRecurrentKernel");
  float* dBias = c.floats(o[9], G, "dBias");
  if (c.ok) gruBackward(x, kernel, rec, h, gates, dy, dx, dKernel, dRec, dBias, s);
  return nullptr;
}

// Whether this CPU runs the kernels (they use AVX2 and FMA instructions).
napi_value Supported(napi_env env, napi_callback_info) {
  __builtin_cpu_init();
  napi_value result;
  napi_get_boolean(env, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), &result);
  return result;
}

// The interface version the JavaScript side expects (NATIVE_ABI_VERSION in
// src/backend/native-kernels.ts): raise both when a kernel's arguments or contract change, so a
// module built from older sources is not used.
napi_value AbiVersion(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_int32(env, 4, &result);
  return result;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor properties[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"supported", nullptr, Supported, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"abiVersion", nullptr, AbiVersion, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnStats", nullptr, BnStats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamUpdate", nullptr, AdamUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumOfSquares", nullptr, SumOfSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSlots", nullptr, SumSlots, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnApply", nullptr, BnApply, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnGradStats", nullptr, BnGradStats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bnGradApply", nullptr, BnGradApply, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGradTiled", nullptr, MaxPoolGradTiled, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lstmForward", nullptr, LstmForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lstmBackward", nullptr, LstmBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gruForward", nullptr, GruForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gruBackward", nullptr, GruBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}
