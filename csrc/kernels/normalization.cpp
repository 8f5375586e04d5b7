// Batch and layer normalization, forward and backward, written once for every ISA level.
//
// Numerics: statistics are two-pass (the mean, then the mean of squared deviations from it, never
// E[x^2] - E[x]^2, which cancels) and every sum is taken in double: over the rows of a column in a
// fixed pairwise order (runs of kLeafRows rows in order, halves combined), over a row's features
// with pairwise_sum. Per-column or per-row coefficients are formed in double and rounded once to
// T; the element-wise passes run in T. Work is split by whole runs of rows (reductions over rows)
// or whole rows, and no sum is ever split across threads, so results never depend on the thread
// count. This file is compiled with -ffp-contract=off: no FMA changes a rounding, so every ISA
// level gives the same bits and nnfast.reference performs the very same roundings (only the order
// of its double sums differs).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "common/vector_width.h"
#include "kernels/activation_math.h"
#include "kernels/dropout.h"
#include "kernels/normalization.h"
#include "kernels/pairwise_sum.h"
#include "memory/workspace.h"
#include "parallel/parallel_for.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace {

constexpr int64_t kLeafRows = 32;  // rows added in order before sums are combined pairwise

// Columns per task of row_run_sums: wide layers also split their columns over threads.
constexpr int64_t kRunColumns = 1024;

// The prepare step of row_run_sums when the summed values are already in memory.
constexpr auto kNothingToPrepare = [](int64_t, int64_t, int64_t) {};

// Columns whose sums over a run stay in registers: two vectors of doubles, eight with AVX-512's 32
// registers. Each row adds one term to every sum of the chunk, a chain of additions per vector:
// with eight (sixteen for the backward's two sums) the additions keep the FP pipes busy instead of
// waiting on each other's latency. The order of every sum is unchanged, so are the bits (Zen 5,
// 256 x 256, 1 thread, 5 alternated runs: backward 0.76-0.97x the time, median 0.81x; forward
// 0.83-1.0x).
constexpr int64_t kRunChunk = (NNFAST_VEC_BYTES >= 64 ? 8 : 2) * NNFAST_VEC_BYTES / int64_t(sizeof(double));

#if defined(__AVX512F__)
// A whole chunk's accumulate of float columns in AVX-512 vectors, each load of 8 floats folded
// into its conversion to doubles. The sums are bound by those conversions (one a cycle on the
// Zen 5); GCC's own loops loaded 16 floats and split them with an extract, one more operation per
// 8 values on the same pipes. The same roundings in the same order, so the same bits (256 x 256, 1
// thread, alternated runs: the forward 0.92x the time, the backward 0.96x).
static_assert(kRunChunk == 64, "a chunk is 8 vectors of 8 doubles");
template <class T, class Count>
constexpr bool kWideChunk = std::is_same<T, float>::value && !std::is_same<Count, int64_t>::value;

inline __m512d widen(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }

// acc[0:64] += double(x[0:64])
inline void add_chunk(double* acc, const float* x) {
#pragma GCC unroll 8
    for (int q = 0; q < 64; q += 8) _mm512_storeu_pd(acc + q, _mm512_add_pd(_mm512_loadu_pd(acc + q), widen(x + q)));
}

// acc[0:64] += (double(x[0:64]) - m[0:64])^2
inline void add_squared_deviations_chunk(double* acc, const float* x, const double* m) {
#pragma GCC unroll 8
    for (int q = 0; q < 64; q += 8) {
        const __m512d d = _mm512_sub_pd(widen(x + q), _mm512_loadu_pd(m + q));
        _mm512_storeu_pd(acc + q, _mm512_add_pd(_mm512_loadu_pd(acc + q), _mm512_mul_pd(d, d)));
    }
}

// sb[0:64] += double(dz), sg[0:64] += double(dz) * double(x_hat) with x_hat = (x - mean) * inv_std in
// float, as batch_norm_backward_rows' loop
inline void add_gradient_sums_chunk(double* sb, double* sg, const float* x, const float* dz, const float* mean,
                                    const float* inv_std) {
#pragma GCC unroll 8
    for (int q = 0; q < 64; q += 8) {
        const __m256 xhat = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + q), _mm256_loadu_ps(mean + q)),
                                          _mm256_loadu_ps(inv_std + q));
        const __m512d d = widen(dz + q);
        _mm512_storeu_pd(sb + q, _mm512_add_pd(_mm512_loadu_pd(sb + q), d));
        _mm512_storeu_pd(sg + q, _mm512_add_pd(_mm512_loadu_pd(sg + q), _mm512_mul_pd(d, _mm512_cvtps_pd(xhat))));
    }
}
#endif

// The column sums of S terms over the rows of a (rows, cols) array, in double, in a fixed order:
// runs of kLeafRows rows added in order, longer ranges split in two (the first half a multiple of
// kLeafRows) and the halves' sums added. accumulate(r, c0, count, acc, stride) adds row r's terms
// of columns [c0, c0 + count) to acc[s * stride + j - c0] for s < S. Threads take whole runs (and
// column blocks), never part of a sum. `cost` is the work per element. Returns the S x cols sums
// (workspace kRunSums: valid until the next call on this thread).
// A run is first prepared (prepare(r, c0, c1) for each of its rows: a fused tail writes the values
// it sums), then summed kRunChunk columns at a time with the chunk's sums in registers, row by row
// in order: the same roundings as adding each row into sums in memory, 25-30% faster. The
// accumulate loops carry no `omp simd`, which made GCC keep a chunk's sums in memory. A run's rows
// are read again for each chunk while they are still in cache; summing a chunk down *all* rows
// instead waited for a few cache lines a row apart per row (2.5x slower in a training step), and
// preparing narrower column panels, to keep a run's prepared values in L1, measured slower.
template <int S, class Prepare, class Accumulate>
const double* row_run_sums(int64_t rows, int64_t cols, int64_t cost, const Prepare& prepare,
                           const Accumulate& accumulate) {
    const int64_t runs = std::max<int64_t>((rows + kLeafRows - 1) / kLeafRows, 1);
    const int64_t blocks = (cols + kRunColumns - 1) / kRunColumns;
    double* sums = static_cast<double*>(workspace(kRunSums, sizeof(double) * (runs * S * cols + 1)));
    parallel_for(runs * blocks, 1, kLeafRows * std::min(cols, kRunColumns) * cost, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t i = t / blocks, c0 = t % blocks * kRunColumns, c1 = std::min(cols, c0 + kRunColumns);
            const int64_t r0 = i * kLeafRows, r1 = std::min(rows, r0 + kLeafRows);
            double* acc = sums + i * S * cols;
            for (int64_t r = r0; r < r1; ++r) prepare(r, c0, c1);
            int64_t j = c0;
            for (; j + kRunChunk <= c1; j += kRunChunk) {
                double chunk[S * kRunChunk] = {};
                for (int64_t r = r0; r < r1; ++r)
                    accumulate(r, j, std::integral_constant<int64_t, kRunChunk>{}, chunk, kRunChunk);
                for (int s = 0; s < S; ++s)
                    std::copy(chunk + s * kRunChunk, chunk + (s + 1) * kRunChunk, acc + s * cols + j);
            }
            if (j == c1) continue;
            for (int s = 0; s < S; ++s) std::fill(acc + s * cols + j, acc + s * cols + c1, 0.0);
            for (int64_t r = r0; r < r1; ++r) accumulate(r, j, c1 - j, acc + j, cols);
        }
    });
    // runs [i, i + count) combined into run i, their n rows split as above
    auto combine = [&](auto&& self, int64_t i, int64_t count) -> void {
        if (count <= 1) return;
        const int64_t n = std::min(rows, (i + count) * kLeafRows) - i * kLeafRows;
        const int64_t half = (n / 2 + kLeafRows - 1) / kLeafRows;
        self(self, i, half);
        self(self, i + half, count - half);
        double* lo = sums + i * S * cols;
        const double* hi = sums + (i + half) * S * cols;
        for (int64_t j = 0; j < S * cols; ++j) lo[j] += hi[j];
    };
    combine(combine, 0, runs);
    return sums;
}

// body(r) for every row r of [0, rows), split over threads; `cost` is the work per row.
template <class Body>
void for_rows(int64_t rows, int64_t cost, const Body& body) {
    parallel_for(rows, 1, cost, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) body(r);
    });
}

// The statistics of batch_norm_forward (mean, inv_std, and in training the moving statistics) and
// the per-column factors of its row pass: y = (x - mean) * scale + shift. Keras' order: the factor
// inv_std * gamma is formed first.
template <class T>
void batch_norm_coefficients(T* scale, T* shift, T* mean, T* inv_std, T* moving_mean, T* moving_var, double* m,
                             const T* x, const T* gamma, const T* beta, int64_t rows, int64_t cols, bool training,
                             double momentum, double epsilon) {
    const T keep = T(momentum), take = T(1.0 - momentum);  // as Keras: 1 - momentum in double, then rounded
    const double* v = nullptr;  // the sums of squared deviations, in training
    if (training) {
        const double* sums = row_run_sums<1>(rows, cols, 1, kNothingToPrepare,
                                             [&](int64_t r, int64_t c0, auto count, double* acc, int64_t) {
                                                 const T* xr = x + r * cols + c0;
#if defined(__AVX512F__)
                                                 if constexpr (kWideChunk<T, decltype(count)>)
                                                     return add_chunk(acc, xr);
#endif
                                                 for (int64_t j = 0; j < count; ++j) acc[j] += double(xr[j]);
                                             });
        for (int64_t j = 0; j < cols; ++j) m[j] = sums[j] / double(rows);
        v = row_run_sums<1>(rows, cols, 2, kNothingToPrepare, [&](int64_t r, int64_t c0, auto count, double* acc, int64_t) {
            const T* xr = x + r * cols + c0;
            const double* mr = m + c0;
#if defined(__AVX512F__)
            if constexpr (kWideChunk<T, decltype(count)>) return add_squared_deviations_chunk(acc, xr, mr);
#endif
            for (int64_t j = 0; j < count; ++j) {
                const double d = double(xr[j]) - mr[j];
                acc[j] += d * d;
            }
        });
    }
    // Vectorized: a column's square root and division in scalar double waited on each other's
    // latency, about a tenth of the kernel at 256 x 256 (the bindings keep these arrays apart).
    if (training) {
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) {
            const double vj = v[j] / double(rows);  // biased, as Keras (also for moving_var)
            const double inv = 1.0 / std::sqrt(vj + epsilon);
            const T mean_j = T(m[j]);
            mean[j] = mean_j;
            inv_std[j] = T(inv);
            scale[j] = T(gamma ? inv * double(gamma[j]) : inv);
            shift[j] = beta ? beta[j] : T(0);
            moving_mean[j] = moving_mean[j] * keep + mean_j * take;
            moving_var[j] = moving_var[j] * keep + T(vj) * take;
        }
        return;
    }
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
        const double inv = 1.0 / std::sqrt(double(moving_var[j]) + epsilon);
        mean[j] = moving_mean[j];
        inv_std[j] = T(inv);
        scale[j] = T(gamma ? inv * double(gamma[j]) : inv);
        shift[j] = beta ? beta[j] : T(0);
    }
}

}  // namespace

// The gate a tail's dropout stores for kept elements its activation turned off (dropout.h).
inline uint8_t off_gate(Activation act) {
    return act == Activation::relu ? kGateOff : act == Activation::leaky_relu ? kGateSlope : kGatePass;
}

template <class T>
void batch_norm_tail_forward(T* y, uint8_t* mask, T* mean, T* inv_std, T* moving_mean, T* moving_var, const T* x,
                             const T* gamma, const T* beta, int64_t rows, int64_t cols, bool training,
                             double momentum, double epsilon, Activation act, double rate, uint64_t seed) {
    double* m = static_cast<double*>(workspace(kPartials, sizeof(double) * cols + sizeof(T) * (2 * cols + 1)));
    T* scale = reinterpret_cast<T*>(m + cols);  // the batch mean in double, then the row pass's factors
    T* shift = scale + cols;
    batch_norm_coefficients(scale, shift, mean, inv_std, moving_mean, moving_var, m, x, gamma, beta, rows, cols,
                            training, momentum, epsilon);
    const T drop_scale = dropout_scale<T>(rate);
    const uint32_t threshold = dropout_keep_threshold(rate);
    const uint8_t off = off_gate(act);
    const T slope = T(kLeakyReluSlope);
    for_rows(rows, (mask ? 7 : 3) * cols, [&](int64_t r) {
        T* yr = y + r * cols;
        const T* xr = x + r * cols;
        // A piecewise-linear activation in the normalizing loop itself (the same roundings): a
        // separate pass reloading the row it had just stored took about a fifth of this kernel.
        if (act == Activation::relu) {
#pragma omp simd
            for (int64_t j = 0; j < cols; ++j) {
                const T v = (xr[j] - mean[j]) * scale[j] + shift[j];
                yr[j] = v < T(0) ? T(0) : v;
            }
        } else if (act == Activation::leaky_relu) {
#pragma omp simd
            for (int64_t j = 0; j < cols; ++j) {
                const T v = (xr[j] - mean[j]) * scale[j] + shift[j];
                yr[j] = v < T(0) ? slope * v : v;
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mean[j]) * scale[j] + shift[j];
            elementwise_forward_range(yr, yr, cols, act);
        }
        if (mask) dropout_forward_range(y, mask, y, r * cols, (r + 1) * cols, drop_scale, threshold, seed, off);
    });
}

// The plain layer: the tail with no activation (a linear one is no pass) and no dropout.
template <class T>
void batch_norm_forward(T* y, T* mean, T* inv_std, T* moving_mean, T* moving_var, const T* x, const T* gamma,
                        const T* beta, int64_t rows, int64_t cols, bool training, double momentum, double epsilon) {
    batch_norm_tail_forward<T>(y, nullptr, mean, inv_std, moving_mean, moving_var, x, gamma, beta, rows, cols,
                               training, momentum, epsilon, Activation::linear, 0.0, 0);
}

namespace {

// The backward of a batch-norm layer whose output gradient is dz (rows, cols), formed a row's
// columns [c0, c1) at a time by dz_part(r, c0, c1) (which may write them first: a fused tail's
// dropout and activation) inside the pass that sums dz and dz * x_hat per column; then dx.
template <class T, class DzPart>
void batch_norm_backward_rows(T* dx, T* dgamma, T* dbeta, const T* x, const T* gamma, const T* mean,
                              const T* inv_std, const T* dz, int64_t rows, int64_t cols, bool training,
                              int64_t dz_cost, const DzPart& dz_part) {
    // dx = gamma*inv_std * (dz - sum(dz)/N - x_hat * sum(dz*x_hat)/N) with x_hat = (x - mean)*inv_std;
    // per column: k = gamma*inv_std, kb = sum(dz)/N, kg = sum(dz*x_hat)/N (in double, rounded once).
    const double* sums = row_run_sums<2>(rows, cols, dz_cost + 6, dz_part,
                                         [&](int64_t r, int64_t c0, auto count, double* acc, int64_t stride) {
                                             const T* xr = x + r * cols + c0;
                                             const T* dzr = dz + r * cols + c0;
                                             const T* mr = mean + c0;
                                             const T* ir = inv_std + c0;
                                             double* sb = acc;
                                             double* sg = acc + stride;
#if defined(__AVX512F__)
                                             if constexpr (kWideChunk<T, decltype(count)>)
                                                 return add_gradient_sums_chunk(sb, sg, xr, dzr, mr, ir);
#endif
                                             for (int64_t j = 0; j < count; ++j) {
                                                 const T xhat = (xr[j] - mr[j]) * ir[j];
                                                 sb[j] += double(dzr[j]);
                                                 sg[j] += double(dzr[j]) * double(xhat);
                                             }
                                         });
    T* k = static_cast<T*>(workspace(kPartials, sizeof(T) * (3 * cols + 1)));
    T* kb = k + cols;
    T* kg = kb + cols;
    if (dbeta) std::copy(sums, sums + cols, dbeta);  // each sum rounded to T, as below
    if (dgamma) std::copy(sums + cols, sums + 2 * cols, dgamma);
#pragma omp simd  // the divisions in vectors (see batch_norm_coefficients)
    for (int64_t j = 0; j < cols; ++j) {
        k[j] = T(gamma ? double(gamma[j]) * double(inv_std[j]) : double(inv_std[j]));
        kb[j] = T(sums[j] / double(rows));
        kg[j] = T(sums[cols + j] / double(rows));
    }
    for_rows(rows, 5 * cols, [&](int64_t r) {
        const T* xr = x + r * cols;
        const T* dzr = dz + r * cols;
        T* dxr = dx + r * cols;
        if (!training) {  // constant statistics: only the scale remains
#pragma omp simd
            for (int64_t j = 0; j < cols; ++j) dxr[j] = dzr[j] * k[j];
            return;
        }
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) {
            const T xhat = (xr[j] - mean[j]) * inv_std[j];
            dxr[j] = k[j] * (dzr[j] - kb[j] - xhat * kg[j]);
        }
    });
}

}  // namespace

template <class T>
void batch_norm_backward(T* dx, T* dgamma, T* dbeta, const T* x, const T* gamma, const T* mean, const T* inv_std,
                         const T* dy, int64_t rows, int64_t cols, bool training) {
    batch_norm_backward_rows(dx, dgamma, dbeta, x, gamma, mean, inv_std, dy, rows, cols, training, 0,
                             kNothingToPrepare);
}

template <class T>
void batch_norm_tail_backward(T* dx, T* dgamma, T* dbeta, T* dz, const T* x, const T* gamma, const T* mean,
                              const T* inv_std, const T* act_y, const uint8_t* mask, const T* dy, int64_t rows,
                              int64_t cols, bool training, Activation act, double rate) {
    if (!mask && act == Activation::linear)
        return batch_norm_backward(dx, dgamma, dbeta, x, gamma, mean, inv_std, dy, rows, cols, training);
    // dz = dL/d(the normalized x), a row at a time inside the statistics' pass
    const T drop_scale = dropout_scale<T>(rate);
    batch_norm_backward_rows(dx, dgamma, dbeta, x, gamma, mean, inv_std, dz, rows, cols, training, 2,
                             [&](int64_t r, int64_t c0, int64_t c1) {
                                 const int64_t b = r * cols + c0;
                                 if (mask) dropout_backward_range(dz, dy, mask, b, b + c1 - c0, drop_scale, T(kLeakyReluSlope));
                                 else elementwise_backward_range(dz + b, act_y + b, dy + b, c1 - c0, act);
                             });
}

template <class T>
void layer_norm_forward(T* y, T* mean, T* inv_std, const T* x, const T* gamma, const T* beta, int64_t rows,
                        int64_t cols, double epsilon) {
    for_rows(rows, 6 * cols, [&](int64_t r) {
        const T* xr = x + r * cols;
        T* yr = y + r * cols;
        const double m = pairwise_sum<double>(cols, [&](int64_t j) { return double(xr[j]); }) / double(cols);
        const double v = pairwise_sum<double>(cols, [&](int64_t j) {
                             const double d = double(xr[j]) - m;
                             return d * d;
                         }) / double(cols);
        const T mr = T(m), ir = T(1.0 / std::sqrt(v + epsilon));
        mean[r] = mr;
        inv_std[r] = ir;
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j)
            yr[j] = ((xr[j] - mr) * ir) * (gamma ? gamma[j] : T(1)) + (beta ? beta[j] : T(0));
    });
}

template <class T>
void layer_norm_backward(T* dx, T* dgamma, T* dbeta, const T* x, const T* gamma, const T* mean, const T* inv_std,
                         const T* dy, int64_t rows, int64_t cols) {
    if (dgamma || dbeta) {
        const double* sums = row_run_sums<2>(rows, cols, 4, kNothingToPrepare,
                                             [&](int64_t r, int64_t c0, auto count, double* acc, int64_t stride) {
                                                 const T* xr = x + r * cols + c0;
                                                 const T* dyr = dy + r * cols + c0;
                                                 const T mr = mean[r], ir = inv_std[r];
                                                 for (int64_t j = 0; j < count; ++j) {
                                                     acc[j] += double(dyr[j]);
                                                     acc[stride + j] += double(dyr[j]) * double((xr[j] - mr) * ir);
                                                 }
                                             });
        for (int64_t j = 0; j < cols; ++j) {
            if (dbeta) dbeta[j] = T(sums[j]);
            if (dgamma) dgamma[j] = T(sums[cols + j]);
        }
    }
    // Per row, with g = dy * gamma: dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)). g is
    // formed in dx first, so the sums and the last pass read plain arrays (and vectorize).
    for_rows(rows, 10 * cols, [&](int64_t r) {
        const T* xr = x + r * cols;
        const T* dyr = dy + r * cols;
        T* dxr = dx + r * cols;
        const T mr = mean[r], ir = inv_std[r];
        if (gamma) {
#pragma omp simd
            for (int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j] * gamma[j];
        } else {
            for (int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j];
        }
        const T a = T(pairwise_sum<double>(cols, [&](int64_t j) { return double(dxr[j]); }) / double(cols));
        const T b = T(pairwise_sum<double>(cols, [&](int64_t j) {
                          return double(dxr[j]) * double((xr[j] - mr) * ir);
                      }) / double(cols));
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) dxr[j] = ir * (dxr[j] - a - ((xr[j] - mr) * ir) * b);
    });
}

namespace {

// Normalization's divisor of a feature: max(sqrt(variance), epsilon), NaN kept (as np.maximum).
template <class T>
T normalization_scale(T variance) {
    const T s = std::sqrt(variance), eps = T(kNormalizationEpsilon);
    return s < eps ? eps : s;
}

}  // namespace

template <class T>
void normalization_forward(T* y, const T* x, const T* mean, const T* variance, int64_t rows, int64_t cols,
                           bool invert) {
    for_rows(rows, 4 * cols, [&](int64_t r) {
        const T* xr = x + r * cols;
        T* yr = y + r * cols;
        if (invert) {
            for (int64_t j = 0; j < cols; ++j) yr[j] = mean[j] + xr[j] * normalization_scale(variance[j]);
        } else {
            for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mean[j]) / normalization_scale(variance[j]);
        }
    });
}

template <class T>
void normalization_backward(T* dx, const T* dy, const T* variance, int64_t rows, int64_t cols, bool invert) {
    for_rows(rows, 4 * cols, [&](int64_t r) {
        const T* dyr = dy + r * cols;
        T* dxr = dx + r * cols;
        if (invert) {
            for (int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j] * normalization_scale(variance[j]);
        } else {
            for (int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j] / normalization_scale(variance[j]);
        }
    });
}

#define NNFAST_INSTANTIATE(T)                                                                                    \
    template void batch_norm_forward<T>(T*, T*, T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t, bool, \
                                        double, double);                                                         \
    template void batch_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, int64_t,   \
                                         int64_t, bool);                                                         \
    template void batch_norm_tail_forward<T>(T*, uint8_t*, T*, T*, T*, T*, const T*, const T*, const T*, int64_t,  \
                                             int64_t, bool, double, double, Activation, double, uint64_t);          \
    template void batch_norm_tail_backward<T>(T*, T*, T*, T*, const T*, const T*, const T*, const T*, const T*,    \
                                              const uint8_t*, const T*, int64_t, int64_t, bool, Activation, double); \
    template void layer_norm_forward<T>(T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t, double);      \
    template void layer_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, int64_t,   \
                                         int64_t);                                                               \
    template void normalization_forward<T>(T*, const T*, const T*, const T*, int64_t, int64_t, bool);            \
    template void normalization_backward<T>(T*, const T*, const T*, int64_t, int64_t, bool);
NNFAST_INSTANTIATE(float)
NNFAST_INSTANTIATE(double)
#undef NNFAST_INSTANTIATE

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
