// Loss kernels: value and gradient in one pass, written once for every ISA level. Sums use fixed
// blocks added in a fixed order (never per-thread partials), so the loss does not depend on the
// thread count; the loss is accumulated in double. Each element's (or row's) arithmetic is the
// reference's (nnfast/reference.py), operation for operation; compiled with -ffp-contract=off.
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

// x clipped to [lo, hi] (NaN stays NaN, as np.clip).
template <class T>
T clip(T x, T lo, T hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

// sign(x): -1, 0 or 1 (sign(NaN) = NaN), as np.sign.
template <class T>
T sign(T x) {
    return x > T(0) ? T(1) : x < T(0) ? T(-1) : x;
}

// log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|)).
template <class T>
T softplus(T z) {
    return (z < T(0) ? T(0) : z) + std::log1p(std::exp(-std::fabs(z)));  // max(z, 0) keeps NaN
}

// true when every target[i] (n) is 0 or 1: Keras's hinge losses then use 2 t - 1.
template <class T>
bool binary_targets(const T* target, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (!(target[i] == T(0) || target[i] == T(1))) return false;
    return true;
}

// Calls f(term) with the element term of a point-wise loss: term(p, t, s, g) returns the loss
// of prediction p against target t (in T, as double) and sets g to its derivative times s. The
// loop over elements is compiled once per kind. `binary`: hinge targets are all 0 or 1.
template <class T, class F>
double with_term(Loss kind, double param, bool binary, const F& f) {
    const T eps = T(kBceEpsilon), one_minus_eps = T(1.0 - kBceEpsilon);
    const T smooth_a = T(1.0 - param), smooth_b = T(0.5 * param);  // binary label smoothing: t a + b
    switch (kind) {
    case Loss::mse:  // (p - t)^2
        return f([](T p, T t, T s, T& g) { const T d = p - t; g = d * s; return double(d * d); });
    case Loss::mae:  // |p - t|
        return f([](T p, T t, T s, T& g) { const T d = p - t; g = sign(d) * s; return double(std::fabs(d)); });
    case Loss::binary_cross_entropy:  // of probabilities clipped to [eps, 1 - eps]; 0 gradient where clipped
        return f([=](T p, T t, T s, T& g) {
            t = t * smooth_a + smooth_b;
            const T pc = clip(p, eps, one_minus_eps);
            g = p < eps || p > one_minus_eps ? T(0) : (-(t / pc) + (T(1) - t) / (T(1) - pc)) * s;
            return -double(t * std::log(pc) + (T(1) - t) * std::log(T(1) - pc));
        });
    case Loss::sigmoid_cross_entropy:  // of logits: max(z, 0) - z t + log1p(exp(-|z|))
        return f([=](T z, T t, T s, T& g) {
            t = t * smooth_a + smooth_b;
            g = (T(1) / (T(1) + std::exp(-z)) - t) * s;
            return double((z < T(0) ? T(0) : z) - z * t + std::log1p(std::exp(-std::fabs(z))));
        });
    case Loss::mape:  // |(t - p) / max(|t|, eps)| (times 100 outside)
        return f([=](T p, T t, T s, T& g) {
            const T scale = std::fabs(t) < eps ? eps : std::fabs(t);  // max(|t|, eps), NaN kept
            g = sign(p - t) / scale * s;
            return double(std::fabs((t - p) / scale));
        });
    case Loss::msle:  // (log(max(p, eps) + 1) - log(max(t, eps) + 1))^2
        return f([=](T p, T t, T s, T& g) {
            const T shifted = (p < eps ? eps : p) + T(1);
            const T d = std::log(shifted) - std::log((t < eps ? eps : t) + T(1));
            g = p > eps ? T(2) * d / shifted * s : T(0);
            return double(d * d);
        });
    case Loss::huber: {  // e^2 / 2 where |e| <= delta, else delta |e| - delta^2 / 2
        const T delta = T(param), half = T(0.5);
        return f([=](T p, T t, T s, T& g) {
            const T e = p - t, a = std::fabs(e);
            const bool small = a <= delta;
            g = (small ? e : delta * sign(e)) * s;
            return double(small ? half * (e * e) : delta * a - half * (delta * delta));
        });
    }
    case Loss::log_cosh: {  // x + softplus(-2 x) - log 2
        const T log2 = T(std::log(2.0));
        return f([=](T p, T t, T s, T& g) {
            const T x = p - t;
            g = std::tanh(x) * s;
            return double(x + softplus(x * T(-2)) - log2);
        });
    }
    case Loss::hinge:  // max(1 - t p, 0)
    case Loss::squared_hinge: {  // max(1 - t p, 0)^2
        const bool squared = kind == Loss::squared_hinge;
        return f([=](T p, T t, T s, T& g) {
            if (binary) t = T(2) * t - T(1);
            T m = T(1) - t * p;
            m = m < T(0) ? T(0) : m;
            if (squared) {
                g = T(-2) * t * m * s;
                return double(m * m);
            }
            g = m > T(0) ? -t * s : T(0);
            return double(m);
        });
    }
    case Loss::poisson:  // p - t log(p + eps)
        return f([=](T p, T t, T s, T& g) {
            const T q = p + eps;
            g = (T(1) - t / q) * s;
            return double(p - t * std::log(q));
        });
    default:  // row-wise: row_loss
        return 0.0;
    }
}

// The factors of a point-wise loss's gradient and value over the mean (2 (p - t) for mse, 100 for
// mape), applied once.
double grad_factor(Loss kind) { return kind == Loss::mse ? 2.0 : kind == Loss::mape ? 100.0 : 1.0; }
double value_factor(Loss kind) { return kind == Loss::mape ? 100.0 : 1.0; }

// The loss of one row p (cols) against target row t (cols) or, when t is null, class y; unless g
// is null, g (cols) = its gradient times s. softmax_cross_entropy reads p as logits.
template <class T>
double row_value(T* g, const T* p, const T* t, int64_t y, int64_t cols, T s, Loss kind, double param) {
    const T eps = T(kBceEpsilon), one_minus_eps = T(1.0 - kBceEpsilon);
    const T smooth_a = T(1.0 - param), smooth_b = T(param) / T(cols);  // t (1 - ls) + ls / C
    auto target = [&](int64_t j) { return (t ? t[j] : T(j == y)) * smooth_a + smooth_b; };  // smoothed
    switch (kind) {
    case Loss::kl_divergence:  // sum(tc log(tc / pc)), t and p clipped to [eps, 1]
        return pairwise_sum<double>(cols, [&](int64_t j) {
            const T tc = clip(t[j], eps, T(1)), pc = clip(p[j], eps, T(1));
            if (g) g[j] = p[j] >= eps && p[j] <= T(1) ? -tc / pc * s : T(0);
            return double(tc * std::log(tc / pc));
        });
    case Loss::categorical_hinge: {  // max(max((1 - t) p) - sum(t p) + 1, 0)
        const T pos = pairwise_sum<T>(cols, [&](int64_t j) { return t[j] * p[j]; });
        int64_t top = 0;
        T neg = (T(1) - t[0]) * p[0];
        for (int64_t j = 1; j < cols; ++j) {
            const T o = (T(1) - t[j]) * p[j];
            if (o > neg) neg = o, top = j;
        }
        T v = neg - pos + T(1);
        v = v < T(0) ? T(0) : v;
        if (g)
            for (int64_t j = 0; j < cols; ++j) g[j] = v > T(0) ? (T(j == top) * (T(1) - t[j]) - t[j]) * s : T(0);
        return double(v);
    }
    case Loss::cosine_similarity: {  // -sum(t / |t| * p / |p|), 1/|x| capped at 1/eps
        const T cap = T(1.0 / kBceEpsilon);
        const T tt = pairwise_sum<T>(cols, [&](int64_t j) { return t[j] * t[j]; });
        const T pp = pairwise_sum<T>(cols, [&](int64_t j) { return p[j] * p[j]; });
        T it = T(1) / std::sqrt(tt), ip = T(1) / std::sqrt(pp);
        it = it > cap ? cap : it;
        ip = ip > cap ? cap : ip;
        const T along = pairwise_sum<T>(cols, [&](int64_t j) { return (t[j] * it) * (p[j] * ip); });
        if (g)
            for (int64_t j = 0; j < cols; ++j) {
                const T tn = t[j] * it, pn = p[j] * ip;
                g[j] = (ip < cap ? -ip * (tn - along * pn) : -tn * cap) * s;
            }
        return -double(along);
    }
    case Loss::categorical_cross_entropy: {  // -sum(t log(clip(p / sum(p), eps, 1 - eps)))
        const T total = pairwise_sum<T>(cols, [&](int64_t j) { return p[j]; });
        const double value = -pairwise_sum<double>(cols, [&](int64_t j) {
            return double(target(j) * std::log(clip(p[j] / total, eps, one_minus_eps)));
        });
        if (g) {  // through the clip (0 where active), then through q = p / sum(p)
            for (int64_t j = 0; j < cols; ++j) {
                const T q = p[j] / total;
                g[j] = q >= eps && q <= one_minus_eps ? -target(j) / clip(q, eps, one_minus_eps) : T(0);
            }
            const T along = pairwise_sum<T>(cols, [&](int64_t j) { return g[j] * (p[j] / total); });
            for (int64_t j = 0; j < cols; ++j) g[j] = (g[j] - along) / total * s;
        }
        return value;
    }
    case Loss::softmax_cross_entropy: {  // log-sum-exp of the shifted logits
        T mx = p[0];
        for (int64_t j = 1; j < cols; ++j) mx = p[j] > mx || std::isnan(p[j]) ? p[j] : mx;
        const auto e = [&](int64_t j) { return T(std::exp(p[j] - mx)); };
        if (g)
            for (int64_t j = 0; j < cols; ++j) g[j] = e(j);
        const T sum = g ? pairwise_sum<T>(cols, [&](int64_t j) { return g[j]; }) : pairwise_sum<T>(cols, e);
        const T lse = std::log(sum);
        if (!t && param == 0.0) {  // -log softmax[y] = lse - shifted[y]; grad = softmax - onehot
            if (g) {
                for (int64_t j = 0; j < cols; ++j) g[j] = g[j] / sum;
                g[y] -= T(1);
                for (int64_t j = 0; j < cols; ++j) g[j] *= s;
            }
            return double(lse) - double(p[y] - mx);
        }
        // -sum(labels * logp); grad = softmax * rowsum(labels) - labels
        const double value = -pairwise_sum<double>(cols, [&](int64_t j) {
            const T tj = target(j);
            return tj == T(0) ? 0.0 : double(tj) * (double(p[j] - mx) - double(lse));
        });
        if (g) {
            const T mass = pairwise_sum<T>(cols, target);
            for (int64_t j = 0; j < cols; ++j) g[j] = (g[j] / sum * mass - target(j)) * s;
        }
        return value;
    }
    default:  // point-wise: pointwise_loss
        return 0.0;
    }
}

}  // namespace

template <class T>
double pointwise_loss(T* grad, const T* pred, const T* target, int64_t n, Loss kind, double param) {
    if (n == 0 || is_row_loss(kind)) return 0.0;
    const double inv_n = 1.0 / double(n);
    const T s = T(grad_factor(kind) * inv_n);
    const bool binary = (kind == Loss::hinge || kind == Loss::squared_hinge) && binary_targets(target, n);
    const bool cheap = kind == Loss::mse || kind == Loss::mae || kind == Loss::mape || kind == Loss::huber ||
                       kind == Loss::hinge || kind == Loss::squared_hinge;  // no transcendental function
    const double total = with_term<T>(kind, param, binary, [&](const auto& term) {
        return blocked_sum(n, cheap ? 2 : 16, [&](int64_t i) { return term(pred[i], target[i], s, grad[i]); });
    });
    return total * inv_n * value_factor(kind);
}

template <class T>
double row_loss(T* grad, const T* pred, const int64_t* labels, const T* target, int64_t rows, int64_t cols, Loss kind,
                double param) {
    if (rows == 0 || cols == 0 || !is_row_loss(kind)) return 0.0;
    const T s = T(1.0 / double(rows));
    double* value = static_cast<double*>(workspace(kPartials, sizeof(double) * (rows + 1)));
    // An exp or a log per element is a libm call (about 5 ns): four times an element's work, so a
    // batch of 128 rows of 10 logits (8.8 us on one thread) splits over two threads.
    const bool calls_libm = kind == Loss::softmax_cross_entropy || kind == Loss::kl_divergence ||
                            kind == Loss::categorical_cross_entropy;
    parallel_for(rows, 1, (calls_libm ? 64 : 16) * cols, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
            value[r] = row_value(grad + r * cols, pred + r * cols, labels ? nullptr : target + r * cols,
                                 labels ? labels[r] : 0, cols, s, kind, param);
    });
    return pairwise_sum<double>(rows, [&](int64_t r) { return value[r]; }) / double(rows);
}

template <class T>
double weighted_loss(const T* pred, const int64_t* labels, const T* target, const T* weights, int64_t rows,
                     int64_t cols, Loss kind, double param) {
    if (rows == 0 || cols == 0) return 0.0;
    double total;
    if (is_row_loss(kind)) {
        total = pairwise_sum<double>(rows, [&](int64_t r) {
            const double v = row_value<T>(nullptr, pred + r * cols, labels ? nullptr : target + r * cols,
                                          labels ? labels[r] : 0, cols, T(0), kind, param);
            return double(weights[r]) * v;
        });
    } else {  // each row's mean of the terms pointwise_loss sums
        const bool binary = (kind == Loss::hinge || kind == Loss::squared_hinge) && binary_targets(target, rows * cols);
        const double factor = value_factor(kind);
        total = with_term<T>(kind, param, binary, [&](const auto& term) {
            return pairwise_sum<double>(rows, [&](int64_t r) {
                const T *p = pred + r * cols, *t = target + r * cols;
                const double v = pairwise_sum<double>(cols, [&](int64_t j) { T g; return term(p[j], t[j], T(0), g); });
                return double(weights[r]) * (v / double(cols) * factor);
            });
        });
    }
    return total / double(rows);
}

#define NNFAST_INSTANTIATE(T)                                                                                     \
    template double pointwise_loss<T>(T*, const T*, const T*, int64_t, Loss, double);                             \
    template double row_loss<T>(T*, const T*, const int64_t*, const T*, int64_t, int64_t, Loss, double);           \
    template double weighted_loss<T>(const T*, const int64_t*, const T*, const T*, int64_t, int64_t, Loss, double);
NNFAST_INSTANTIATE(float)
NNFAST_INSTANTIATE(double)
#undef NNFAST_INSTANTIATE

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
