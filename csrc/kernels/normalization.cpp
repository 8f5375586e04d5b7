// Batch and layer normalization, forward and backward, written once for every ISA level.
//
// Numerics: statistics are two-pass (the mean, then the mean of squared deviations from it, never
// E[x^2] - E[x]^2, which cancels) and every sum is taken in double: over the rows of a column in a
// fixed pairwise order (runs of kLeafRows rows in order, halves combined), over a row's features
// with pairwise_sum. Per-column or per-row coefficients are formed in double and rounded once to
// T; the element-wise passes run in T. Work is split by whole columns (reductions over rows),
// whole runs of rows (batch_norm_backward's sums) or whole rows, and no sum is ever split across
// threads, so results never depend on the thread count. This file is compiled with -ffp-contract=off: no FMA changes a rounding, so every ISA
// level gives the same bits and nnfast.reference performs the very same roundings (only the order
// of its double sums differs).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/activation_math.h"
#include "kernels/dropout.h"
#include "kernels/normalization.h"
#include "kernels/pairwise_sum.h"
#include "memory/workspace.h"
#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace {

constexpr int64_t kChunk = 64;     // columns per task of a reduction over rows (its sums live on the stack)
constexpr int64_t kLeafRows = 32;  // rows added in order before sums are combined pairwise
constexpr int64_t kLane = 32;      // columns summed together in registers (4 zmm or 8 ymm of doubles)

// out[c] = sum of term(r, j0 + c) over r in [r0, r0 + n), for c < width <= kChunk, in double.
// The order depends on n alone: runs of up to kLeafRows rows in order, longer ranges split in two
// (the first half a multiple of kLeafRows) and the halves' sums added.
template <class Term>
void column_sums(double* out, int64_t r0, int64_t n, int64_t j0, int64_t width, const Term& term) {
    if (n <= kLeafRows) {
        // kLane columns at a time, their sums held in registers over the leaf's rows (a sum kept
        // in memory waits for its own store every row); each column's order is the same.
        int64_t c0 = 0;
        for (; c0 + kLane <= width; c0 += kLane) {
            double acc[kLane] = {};
            for (int64_t r = r0; r < r0 + n; ++r)
#pragma omp simd
                for (int64_t c = 0; c < kLane; ++c) acc[c] += term(r, j0 + c0 + c);
            for (int64_t c = 0; c < kLane; ++c) out[c0 + c] = acc[c];
        }
        for (int64_t c = c0; c < width; ++c) out[c] = 0.0;
        for (int64_t r = r0; r < r0 + n; ++r)
#pragma omp simd
            for (int64_t c = c0; c < width; ++c) out[c] += term(r, j0 + c);
        return;
    }
    const int64_t half = (n / 2 + kLeafRows - 1) / kLeafRows * kLeafRows;
    double upper[kChunk];
    column_sums(out, r0, half, j0, width, term);
    column_sums(upper, r0 + half, n - half, j0, width, term);
    for (int64_t c = 0; c < width; ++c) out[c] += upper[c];
}

// chunk(j0, width) for the chunks of kChunk columns of a (rows, cols) array, split over threads;
// `cost` is the work per element.
template <class Chunk>
void for_column_chunks(int64_t rows, int64_t cols, int64_t cost, const Chunk& chunk) {
    const int64_t chunks = (cols + kChunk - 1) / kChunk;
    parallel_for(chunks, 1, rows * kChunk * cost, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) chunk(c * kChunk, std::min(kChunk, cols - c * kChunk));
    });
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
void batch_norm_coefficients(T* scale, T* shift, T* mean, T* inv_std, T* moving_mean, T* moving_var, const T* x,
                             const T* gamma, const T* beta, int64_t rows, int64_t cols, bool training,
                             double momentum, double epsilon) {
    const T keep = T(momentum), take = T(1.0 - momentum);  // as Keras: 1 - momentum in double, then rounded
    for_column_chunks(training ? rows : 0, cols, 3, [&](int64_t j0, int64_t width) {
        double m[kChunk], v[kChunk];
        if (training) {
            column_sums(m, 0, rows, j0, width, [&](int64_t r, int64_t j) { return double(x[r * cols + j]); });
            for (int64_t c = 0; c < width; ++c) m[c] /= double(rows);
            column_sums(v, 0, rows, j0, width, [&](int64_t r, int64_t j) {
                const double d = double(x[r * cols + j]) - m[j - j0];
                return d * d;
            });
            for (int64_t c = 0; c < width; ++c) v[c] /= double(rows);  // biased, as Keras (also for moving_var)
        } else {
            for (int64_t c = 0; c < width; ++c) m[c] = double(moving_mean[j0 + c]), v[c] = double(moving_var[j0 + c]);
        }
        for (int64_t c = 0; c < width; ++c) {
            const int64_t j = j0 + c;
            const double inv = 1.0 / std::sqrt(v[c] + epsilon);
            mean[j] = T(m[c]);
            inv_std[j] = T(inv);
            scale[j] = T(gamma ? inv * double(gamma[j]) : inv);
            shift[j] = beta ? beta[j] : T(0);
            if (!training) continue;
            moving_mean[j] = moving_mean[j] * keep + mean[j] * take;
            moving_var[j] = moving_var[j] * keep + T(v[c]) * take;
        }
    });
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
    T* scale = static_cast<T*>(workspace(kPartials, sizeof(T) * (2 * cols + 1)));
    T* shift = scale + cols;
    batch_norm_coefficients(scale, shift, mean, inv_std, moving_mean, moving_var, x, gamma, beta, rows, cols,
                            training, momentum, epsilon);
    const T drop_scale = dropout_scale<T>(rate);
    const uint32_t threshold = dropout_keep_threshold(rate);
    const uint8_t off = off_gate(act);
    for_rows(rows, (mask ? 7 : 3) * cols, [&](int64_t r) {
        T* yr = y + r * cols;
        const T* xr = x + r * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mean[j]) * scale[j] + shift[j];
        elementwise_forward_range(yr, yr, cols, act);
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

// The backward of a batch-norm layer whose output gradient is dz (rows, cols), formed row by row by
// dz_row(r) (which may write dz's row first: a fused tail's dropout and activation): the column
// sums of dz and dz * x_hat in one pass that reads rows in order, then dx.
// The sums keep column_sums' order exactly (runs of kLeafRows rows in order, combined pairwise as it
// splits), so the bits are the same; but each run is summed row by row into its own row of
// per-column sums, which reads x and dz as streams the prefetchers follow (a column chunk at a time
// read a few cache lines per row, a row apart, and waited for each line). Threads take whole runs.
template <class T, class DzRow>
void batch_norm_backward_rows(T* dx, T* dgamma, T* dbeta, const T* x, const T* gamma, const T* mean,
                              const T* inv_std, const T* dz, int64_t rows, int64_t cols, bool training,
                              int64_t dz_cost, const DzRow& dz_row) {
    // dx = gamma*inv_std * (dz - sum(dz)/N - x_hat * sum(dz*x_hat)/N) with x_hat = (x - mean)*inv_std;
    // per column: k = gamma*inv_std, kb = sum(dz)/N, kg = sum(dz*x_hat)/N (in double, rounded once).
    const int64_t runs = (rows + kLeafRows - 1) / kLeafRows;
    const int64_t coef_bytes = (sizeof(T) * 3 * cols + 63) / 64 * 64;
    char* scratch = static_cast<char*>(workspace(kPartials, coef_bytes + sizeof(double) * (2 * runs * cols + 1)));
    T* k = reinterpret_cast<T*>(scratch);
    T* kb = k + cols;
    T* kg = kb + cols;
    double* run_sums = reinterpret_cast<double*>(scratch + coef_bytes);  // run i: sums of dz, then of dz*x_hat
    parallel_for(runs, 1, kLeafRows * cols * (dz_cost + 6), [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            double* sb = run_sums + i * 2 * cols;
            double* sg = sb + cols;
            std::fill(sb, sb + 2 * cols, 0.0);
            for (int64_t r = i * kLeafRows; r < std::min(rows, (i + 1) * kLeafRows); ++r) {
                dz_row(r);
                const T* xr = x + r * cols;
                const T* dzr = dz + r * cols;
#pragma omp simd
                for (int64_t j = 0; j < cols; ++j) {
                    const T xhat = (xr[j] - mean[j]) * inv_std[j];
                    sb[j] += double(dzr[j]);
                    sg[j] += double(dzr[j]) * double(xhat);
                }
            }
        }
    });
    // runs [i, i + count) combined into run i, split as column_sums splits their n rows
    auto combine = [&](auto&& self, int64_t i, int64_t count) -> void {
        if (count <= 1) return;
        const int64_t n = std::min(rows, (i + count) * kLeafRows) - i * kLeafRows;
        const int64_t half = (n / 2 + kLeafRows - 1) / kLeafRows;
        self(self, i, half);
        self(self, i + half, count - half);
        double* lo = run_sums + i * 2 * cols;
        const double* hi = run_sums + (i + half) * 2 * cols;
        for (int64_t j = 0; j < 2 * cols; ++j) lo[j] += hi[j];
    };
    combine(combine, 0, runs);
    const double* sb = run_sums;
    const double* sg = run_sums + cols;
    for (int64_t j = 0; j < cols; ++j) {
        const double total_b = rows ? sb[j] : 0.0, total_g = rows ? sg[j] : 0.0;
        if (dbeta) dbeta[j] = T(total_b);
        if (dgamma) dgamma[j] = T(total_g);
        k[j] = T(gamma ? double(gamma[j]) * double(inv_std[j]) : double(inv_std[j]));
        kb[j] = T(total_b / double(rows));
        kg[j] = T(total_g / double(rows));
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
                             [](int64_t) {});
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
                             [&](int64_t r) {
                                 const int64_t b = r * cols;
                                 if (mask) dropout_backward_range(dz, dy, mask, b, b + cols, drop_scale, T(kLeakyReluSlope));
                                 else elementwise_backward_range(dz + b, act_y + b, dy + b, cols, act);
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
    if (dgamma || dbeta)
        for_column_chunks(rows, cols, 4, [&](int64_t j0, int64_t width) {
            double s[kChunk];
            if (dbeta) {
                column_sums(s, 0, rows, j0, width, [&](int64_t r, int64_t j) { return double(dy[r * cols + j]); });
                for (int64_t c = 0; c < width; ++c) dbeta[j0 + c] = T(s[c]);
            }
            if (dgamma) {
                column_sums(s, 0, rows, j0, width, [&](int64_t r, int64_t j) {
                    const T xhat = (x[r * cols + j] - mean[r]) * inv_std[r];
                    return double(dy[r * cols + j]) * double(xhat);
                });
                for (int64_t c = 0; c < width; ++c) dgamma[j0 + c] = T(s[c]);
            }
        });
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
