// Loss kernels: value and gradient in one pass, written once for every ISA level. Sums use fixed
// blocks added in a fixed order (never per-thread partials), so the loss does not depend on the
// thread count; the loss is accumulated in double.
#include <cmath>
#include <cstdint>

#include "kernels/losses.h"
#include "kernels/pairwise_sum.h"
#include "memory/workspace.h"
#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace {

constexpr int64_t kBlock = 4096;  // elements per partial sum

// Runs term(i) -> double for i in [0, n), in blocks split over threads, and returns the total:
// each block's pairwise sum, then the blocks' pairwise sum, both in fixed orders.
template <class Term>
double blocked_sum(int64_t n, int64_t cost, const Term& term) {
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    double* partial = static_cast<double*>(workspace(kPartials, sizeof(double) * (blocks + 1)));
    parallel_for(blocks, 1, kBlock * cost, [&](int64_t b0, int64_t b1) {
        for (int64_t blk = b0; blk < b1; ++blk) {
            const int64_t first = blk * kBlock, len = n - first < kBlock ? n - first : kBlock;
            partial[blk] = pairwise_sum_range<double>(first, len, term);
        }
    });
    return pairwise_sum<double>(blocks, [&](int64_t i) { return partial[i]; });
}

}  // namespace

template <class T>
double pointwise_loss(T* grad, const T* pred, const T* target, int64_t n, Loss kind) {
    if (n == 0) return 0.0;
    const double inv_n = 1.0 / double(n);
    double total = 0.0;
    switch (kind) {
    case Loss::mse: {  // mean((p - t)^2); grad = (p - t) * (2/n)
        const T scale = T(2.0 * inv_n);
        total = blocked_sum(n, 2, [&](int64_t i) {
            const T d = pred[i] - target[i];
            grad[i] = d * scale;
            return double(d * d);
        });
        break;
    }
    case Loss::mae: {  // mean(|p - t|); grad = sign(p - t) / n
        const T scale = T(inv_n);
        total = blocked_sum(n, 2, [&](int64_t i) {
            const T d = pred[i] - target[i];
            const T sign = d > T(0) ? T(1) : d < T(0) ? T(-1) : d;  // sign(0) = 0, sign(NaN) = NaN
            grad[i] = sign * scale;
            return double(std::fabs(d));
        });
        break;
    }
    case Loss::binary_cross_entropy: {  // probabilities clipped to [eps, 1 - eps]; grad 0 where clipped
        const T lo = T(kBceEpsilon), hi = T(1.0 - kBceEpsilon), scale = T(inv_n);
        total = blocked_sum(n, 16, [&](int64_t i) {
            const T p = pred[i], t = target[i];
            const T pc = p < lo ? lo : p > hi ? hi : p;
            const bool clipped = p < lo || p > hi;
            grad[i] = clipped ? T(0) : (-(t / pc) + (T(1) - t) / (T(1) - pc)) * scale;
            return -double(t * std::log(pc) + (T(1) - t) * std::log(T(1) - pc));
        });
        break;
    }
    case Loss::softmax_cross_entropy:  // not point-wise: callers use softmax_cross_entropy below
        break;
    }
    return total * inv_n;
}

template <class T>
double softmax_cross_entropy(T* dlogits, const T* logits, const int64_t* labels, const T* label_rows,
                             int64_t rows, int64_t cols) {
    if (rows == 0 || cols == 0) return 0.0;
    const T scale = T(1.0 / double(rows));
    double* row_loss = static_cast<double*>(workspace(kPartials, sizeof(double) * (rows + 1)));
    parallel_for(rows, 1, 16 * cols, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const T* z = logits + r * cols;
            T* g = dlogits + r * cols;
            T mx = z[0];
            for (int64_t j = 1; j < cols; ++j) mx = z[j] > mx || std::isnan(z[j]) ? z[j] : mx;
            for (int64_t j = 0; j < cols; ++j) g[j] = std::exp(z[j] - mx);
            const T sum = pairwise_sum<T>(cols, [&](int64_t j) { return g[j]; });
            const T lse = std::log(sum);  // log-sum-exp of the shifted logits
            for (int64_t j = 0; j < cols; ++j) g[j] = g[j] / sum;
            if (labels) {  // -log softmax[label] = lse - shifted[label]
                const int64_t y = labels[r];
                row_loss[r] = double(lse) - double(z[y] - mx);
                g[y] -= T(1);
                for (int64_t j = 0; j < cols; ++j) g[j] *= scale;
            } else {  // -sum(labels * logp); grad = softmax * rowsum(labels) - labels
                const T* t = label_rows + r * cols;
                row_loss[r] = -pairwise_sum<double>(cols, [&](int64_t j) {
                    return t[j] == T(0) ? 0.0 : double(t[j]) * (double(z[j] - mx) - double(lse));
                });
                const T mass = pairwise_sum<T>(cols, [&](int64_t j) { return t[j]; });
                for (int64_t j = 0; j < cols; ++j) g[j] = (g[j] * mass - t[j]) * scale;
            }
        }
    });
    return pairwise_sum<double>(rows, [&](int64_t r) { return row_loss[r]; }) / double(rows);
}

template <class T>
double weighted_loss(const T* pred, const int64_t* labels, const T* target, const T* weights, int64_t rows,
                     int64_t cols, Loss kind) {
    if (rows == 0 || cols == 0) return 0.0;
    const T lo = T(kBceEpsilon), hi = T(1.0 - kBceEpsilon);
    // the loss of one element, as pointwise_loss sums it
    auto term = [&](T p, T t) {
        if (kind == Loss::mse) return double((p - t) * (p - t));
        if (kind == Loss::mae) return double(std::fabs(p - t));
        const T pc = p < lo ? lo : p > hi ? hi : p;
        return -double(t * std::log(pc) + (T(1) - t) * std::log(T(1) - pc));
    };
    auto row_loss = [&](int64_t r) {
        const T* z = pred + r * cols;
        const T* t = target ? target + r * cols : nullptr;
        if (kind != Loss::softmax_cross_entropy)
            return pairwise_sum<double>(cols, [&](int64_t j) { return term(z[j], t[j]); }) / double(cols);
        T mx = z[0];  // log-sum-exp of the shifted logits, as softmax_cross_entropy computes it
        for (int64_t j = 1; j < cols; ++j) mx = z[j] > mx || std::isnan(z[j]) ? z[j] : mx;
        const T lse = std::log(pairwise_sum<T>(cols, [&](int64_t j) { return T(std::exp(z[j] - mx)); }));
        if (labels) return double(lse) - double(z[labels[r]] - mx);
        return -pairwise_sum<double>(cols, [&](int64_t j) {
            return t[j] == T(0) ? 0.0 : double(t[j]) * (double(z[j] - mx) - double(lse));
        });
    };
    return pairwise_sum<double>(rows, [&](int64_t r) { return double(weights[r]) * row_loss(r); }) / double(rows);
}

#define NNFAST_INSTANTIATE(T)                                                                          \
    template double pointwise_loss<T>(T*, const T*, const T*, int64_t, Loss);                          \
    template double softmax_cross_entropy<T>(T*, const T*, const int64_t*, const T*, int64_t, int64_t); \
    template double weighted_loss<T>(const T*, const int64_t*, const T*, const T*, int64_t, int64_t, Loss);
NNFAST_INSTANTIATE(float)
NNFAST_INSTANTIATE(double)
#undef NNFAST_INSTANTIATE

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
