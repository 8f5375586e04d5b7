// Fused optimizer steps, written once for every ISA level. Each element's parameter, gradient and
// state are read once and written once; the operations and their order mirror nnfast.reference
// exactly (this file is compiled with -ffp-contract=off so no FMA changes a rounding), so native
// and reference agree to the last bit. Work is split over the concatenated element range of all
// tensors in the call.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "common/alignment.h"
#include "kernels/optim.h"
#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace {

constexpr int64_t kLine = 16;  // partition boundaries on 64-byte lines of floats

// fn(tensor, lo, hi) for each piece of a tensor that falls in [b, e) of the concatenated range,
// split into a short head and a body whose parameters start 64-byte aligned (every update is
// element-wise, so the split changes no result).
template <class T, class Fn>
void for_each_piece(const OptimTensor<T>* ts, int64_t count, int64_t b, int64_t e, const Fn& shared_fn) {
    // A private copy of the update (its lambdas capture their scalars by value): the compiler keeps
    // them in registers, where through the shared closure every loop iteration reloaded them from
    // memory after its stores, and such a load waits on a store whose address matches in the low
    // 12 bits (4K aliasing): up to twice the time, depending on where the arrays and stack lie.
    const Fn fn = shared_fn;
    int64_t lo = 0, hi = count;  // first tensor that ends after b
    while (lo < hi) {
        const int64_t mid = (lo + hi) / 2;
        if (ts[mid].offset + ts[mid].size <= b) lo = mid + 1; else hi = mid;
    }
    for (int64_t i = lo; i < count && ts[i].offset < e; ++i) {
        const int64_t first = (b > ts[i].offset ? b : ts[i].offset) - ts[i].offset;
        const int64_t end = ts[i].offset + ts[i].size;
        const int64_t last = (e < end ? e : end) - ts[i].offset;
        const int64_t mid = aligned_from(ts[i].param, first, last);
        if (first < mid) fn(ts[i], first, mid);
        if (mid < last) fn(ts[i], mid, last);
    }
}

// Runs fn over all elements of all tensors, split over threads; `cost` is the work per element.
template <class T, class Fn>
void run_step(const OptimTensor<T>* ts, int64_t count, int64_t cost, const Fn& fn) {
    if (count == 0) return;
    const int64_t total = ts[count - 1].offset + ts[count - 1].size;
    parallel_for(total, kLine, cost, [&](int64_t b, int64_t e) { for_each_piece(ts, count, b, e, fn); });
}

// The element loop: the bindings guarantee params, grads and states never overlap.
template <class Body>
void simd_loop(int64_t lo, int64_t hi, const Body& body) {
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) body(i);
}

// The keras / dlfs SGD update rules (docs/design.md, "Optimizer conventions"), chosen once per
// call, not per element: each rule is its own vectorized loop.
enum class SgdRule { plain, momentum, keras_nesterov, dlfs_nesterov };

SgdRule sgd_rule(const OptimStep& s) {
    if (s.momentum == 0) return SgdRule::plain;
    if (!s.nesterov) return SgdRule::momentum;
    return s.convention == Convention::keras ? SgdRule::keras_nesterov : SgdRule::dlfs_nesterov;
}

// np.maximum: NaN in either argument gives NaN.
template <class T>
T max_nan(T a, T b) { return (a >= b || a != a) ? a : b; }

// torch's NAdam momentum cache mu_k = b1*(1 - 0.5*0.96^(k*psi)); Keras' u_k is the same with psi = 1.
double nadam_mu(double beta_1, int64_t k, double psi) {
    return beta_1 * (1.0 - 0.5 * std::pow(0.96, double(k) * psi));
}

// fn(std::true_type()) or fn(std::false_type()) for a runtime flag: a loop-invariant option made a
// compile-time one, so each variant is its own vectorized loop (GCC does not vectorize a loop that
// rereads a bool through the enclosing lambdas' references).
template <class Fn>
void with_flag(bool flag, const Fn& fn) {
    if (flag) fn(std::true_type()); else fn(std::false_type());
}

// fn(flag_1, flag_2, ...) with each runtime flag made a compile-time one, as with_flag does for one:
// every combination is its own vectorized loop.
template <class Fn>
void with_flags(const Fn& fn) {
    fn();
}
template <class Fn, class... Rest>
void with_flags(const Fn& fn, bool flag, Rest... rest) {
    with_flag(flag, [&](auto first) { with_flags([&](auto... more) { fn(first, more...); }, rest...); });
}

// prod_{k<=step} mu_k (mu_k <= b1 < 1: once it underflows to 0 it stays there). Training calls
// step after step, so the product is carried on from this thread's previous call when that was an
// earlier step of the same beta_1, psi and floating-point mode, instead of being rebuilt from k = 1
// (one pow per past step): the same multiplications in the same order, so the same bits.
double nadam_mu_product(double beta_1, double psi, int64_t step) {
    struct Product { double beta_1, psi; int64_t step; double value; FpMode mode; };
    thread_local Product last{0.0, 0.0, -1, 1.0, 0};
    const FpMode mode = read_fp_mode();
    const bool resume = last.beta_1 == beta_1 && last.psi == psi && last.mode == mode && last.step >= 0 &&
                        last.step <= step;
    double prod = resume ? last.value : 1.0;
    for (int64_t k = resume ? last.step + 1 : 1; k <= step && prod != 0; ++k) prod *= nadam_mu(beta_1, k, psi);
    last = Product{beta_1, psi, step, prod, mode};
    return prod;
}

// PyTorch's CPU kernels are vectorized (ATen's Vectorized, on every CPU with AVX2, AVX-512 or
// NEON), and there some of its ops are one fused multiply-add where its scalar fallback rounds
// twice. The torch convention follows the vectorized kernels for these ops (docs/design.md,
// "Optimizer conventions"): add(other, alpha) is fma(alpha, other, self), addcmul_(t1, t2, value)
// is fma(value*t1, t2, self), and lerp_ is below.

// torch's lerp_(end, weight): fma(w, end - start, start) for |w| < 0.5, else
// fma(w - 1, end - start, end).
template <class T>
T torch_lerp(T start, T end, T weight) {
    const bool small = std::abs(weight) < T(0.5);
    return std::fma(small ? weight : weight - T(1), end - start, small ? start : end);
}

// The step's gradient: torch's maximize negates it first, then L2 decay adds wd*w
// (grad.add(param, alpha=weight_decay): one fma).
template <class T>
T torch_grad(T g, T w, bool maximize, bool l2, T wd) {
    const T gi = maximize ? -g : g;
    return l2 ? std::fma(wd, w, gi) : gi;
}

// torch NAdam's and RAdam's shared element prologue (the reference's _torch_adam_moments): the
// step's gradient g, w decayed (decoupled: w * (1 - lr*wd)), m += (1-b1)*(g-m) and
// v = b2*v + (1-b2)*g*g stored; the flags are compile-time (std::bool_constant) for vectorizing.
template <class T>
struct TorchMoments {
    T wd, shrink, one_b1, b2, one_b2;
    struct Element { T g, w, m, v; };
    template <class Maximize, class L2, class Decoupled>
    Element operator()(T* w, const T* g, T* m, T* v, int64_t i, Maximize, L2, Decoupled) const {
        const T gi = torch_grad(g[i], w[i], bool(Maximize()), bool(L2()), wd);
        const T wi = Decoupled() ? w[i] * shrink : w[i];
        const T mi = torch_lerp(m[i], gi, one_b1);
        const T vi = std::fma(one_b2 * gi, gi, b2 * v[i]);
        m[i] = mi;
        v[i] = vi;
        return {gi, wi, mi, vi};
    }
};


}  // namespace

template <class T>
void sgd_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    const T lr = T(s.learning_rate), mu = T(s.momentum), wd = T(s.weight_decay);
    const bool momentum = s.momentum != 0, l2 = s.weight_decay != 0;
    if (s.convention == Convention::torch) {
        // g = -g (maximize); g += wd*w; b = g at step 1 else b = mu*b + (1-dampening)*g;
        // w -= lr*(nesterov ? g + mu*b : b). Each add(x, alpha) is torch's one fma.
        const T keep = T(1.0 - s.dampening), neg_lr = T(-s.learning_rate);
        const bool first = s.step == 1, nesterov = s.nesterov, maximize = s.maximize;
        run_step(ts, count, momentum ? 2 : 1, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
            T* w = t.param; const T* g = t.grad; T* b = t.state[0];
            if (!momentum) {
                simd_loop(lo, hi, [&](int64_t i) {
                    const T gi = torch_grad(g[i], w[i], maximize, l2, wd);
                    w[i] = std::fma(neg_lr, gi, w[i]);
                });
                return;
            }
            simd_loop(lo, hi, [&](int64_t i) {
                const T gi = torch_grad(g[i], w[i], maximize, l2, wd);
                const T bi = first ? gi : std::fma(keep, gi, b[i] * mu);
                b[i] = bi;
                w[i] = std::fma(neg_lr, nesterov ? std::fma(mu, bi, gi) : bi, w[i]);
            });
        });
        return;
    }
    // keras / dlfs: w -= lr*wd*w; then w -= lr*g, or v = mu*v - lr*g and w += v (momentum),
    // w += mu*v - lr*g (keras nesterov), w += mu*mu*v - (1+mu)*lr*g (dlfs nesterov)
    const T lr_wd = T(s.learning_rate * s.weight_decay);
    const T mu_mu = T(s.momentum * s.momentum), mu1_lr = T((1.0 + s.momentum) * s.learning_rate);
    const SgdRule rule = sgd_rule(s);
    run_step(ts, count, momentum ? 2 : 1, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
        T* w = t.param; const T* g = t.grad; T* v = t.state[0];
        switch (rule) {
        case SgdRule::plain:
            simd_loop(lo, hi, [&](int64_t i) {
                const T wi = l2 ? w[i] - lr_wd * w[i] : w[i];
                w[i] = wi - lr * g[i];
            });
            break;
        case SgdRule::momentum:
            simd_loop(lo, hi, [&](int64_t i) {
                const T wi = l2 ? w[i] - lr_wd * w[i] : w[i];
                const T vi = mu * v[i] - lr * g[i];
                v[i] = vi;
                w[i] = wi + vi;
            });
            break;
        case SgdRule::keras_nesterov:
            simd_loop(lo, hi, [&](int64_t i) {
                const T wi = l2 ? w[i] - lr_wd * w[i] : w[i];
                const T vi = mu * v[i] - lr * g[i];
                v[i] = vi;
                w[i] = wi + (mu * vi - lr * g[i]);
            });
            break;
        case SgdRule::dlfs_nesterov:
            simd_loop(lo, hi, [&](int64_t i) {
                const T wi = l2 ? w[i] - lr_wd * w[i] : w[i];
                const T vi = mu * v[i] - lr * g[i];
                v[i] = vi;
                w[i] = wi + (mu_mu * vi - mu1_lr * g[i]);
            });
        }
    });
}

template <class T>
void adagrad_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    const T eps = T(s.epsilon), wd = T(s.weight_decay);
    const bool l2 = s.weight_decay != 0;
    if (s.convention == Convention::torch) {
        // g = -g (maximize); g += wd*w; clr = lr/(1+(t-1)*lr_decay); acc += g^2;
        // w -= clr*g/(sqrt(acc) + eps)
        const T clr = T(s.learning_rate / (1.0 + double(s.step - 1) * s.lr_decay));
        const bool maximize = s.maximize;
        run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
            T* w = t.param; const T* g = t.grad; T* acc = t.state[0];
            simd_loop(lo, hi, [&](int64_t i) {
                const T gi = torch_grad(g[i], w[i], maximize, l2, wd);
                const T ai = acc[i] + gi * gi;
                acc[i] = ai;
                w[i] = w[i] - clr * gi / (std::sqrt(ai) + eps);
            });
        });
        return;
    }
    // keras: w -= lr*wd*w; acc += g^2; w -= lr*g/sqrt(acc + eps)
    const T lr = T(s.learning_rate), lr_wd = T(s.learning_rate * s.weight_decay);
    run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
        T* w = t.param; const T* g = t.grad; T* acc = t.state[0];
        simd_loop(lo, hi, [&](int64_t i) {
            const T wi = l2 ? w[i] - lr_wd * w[i] : w[i];
            const T ai = acc[i] + g[i] * g[i];
            acc[i] = ai;
            w[i] = wi - lr * g[i] / std::sqrt(ai + eps);
        });
    });
}

template <class T>
void rmsprop_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    const T lr = T(s.learning_rate), rho = T(s.rho), one_rho = T(1.0 - s.rho), eps = T(s.epsilon);
    const T mu = T(s.momentum), wd = T(s.weight_decay), lr_wd = T(s.learning_rate * s.weight_decay);
    const bool keras = s.convention == Convention::keras, decay = s.weight_decay != 0;
    const bool centered = s.centered, momentum = s.momentum != 0, maximize = s.maximize;
    // keras: w -= lr*wd*w; v = rho*v + (1-rho)*g^2; a = rho*a + (1-rho)*g; d = v - a^2 (or v);
    //        inc = lr*g/sqrt(d + eps); b = mu*b + inc; w -= b (or inc)
    // torch: g = -g (maximize); g += wd*w; v likewise; a += (1-rho)*(g - a); inc = g/(sqrt(d) + eps);
    //        b = mu*b + inc; w -= lr*b (or lr*inc)
    run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
        T* w = t.param; const T* g = t.grad; T* v = t.state[0]; T* a = t.state[1]; T* b = t.state[2];
        auto element = [&](int64_t i, auto is_keras, auto is_centered, auto has_momentum) {
            T wi = w[i], gi = g[i];
            if (is_keras) {
                if (decay) wi = wi - lr_wd * wi;
            } else {
                gi = torch_grad(gi, wi, maximize, decay, wd);
            }
            const T vi = rho * v[i] + one_rho * (gi * gi);
            v[i] = vi;
            T var = vi;
            if (is_centered) {
                const T ai = is_keras ? rho * a[i] + one_rho * gi : a[i] + one_rho * (gi - a[i]);
                a[i] = ai;
                var = vi - ai * ai;
            }
            T inc = is_keras ? lr * gi / std::sqrt(var + eps) : gi / (std::sqrt(var) + eps);
            if (has_momentum) {
                inc = b[i] * mu + inc;
                b[i] = inc;
            }
            w[i] = is_keras ? wi - inc : wi - lr * inc;
        };
        using Yes = std::true_type;
        using No = std::false_type;
        // Dispatch the loop-invariant options to separate loops so each vectorizes cleanly.
        auto loop = [&](auto k, auto c, auto m) { simd_loop(lo, hi, [&](int64_t i) { element(i, k, c, m); }); };
        if (keras) {
            if (centered) { if (momentum) loop(Yes(), Yes(), Yes()); else loop(Yes(), Yes(), No()); }
            else          { if (momentum) loop(Yes(), No(), Yes());  else loop(Yes(), No(), No()); }
        } else {
            if (centered) { if (momentum) loop(No(), Yes(), Yes()); else loop(No(), Yes(), No()); }
            else          { if (momentum) loop(No(), No(), Yes());  else loop(No(), No(), No()); }
        }
    });
}

template <class T>
void adam_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    const double bc1 = 1.0 - std::pow(s.beta_1, double(s.step));
    const double bc2 = 1.0 - std::pow(s.beta_2, double(s.step));
    const T b1 = T(s.beta_1), b2 = T(s.beta_2), one_b1 = T(1.0 - s.beta_1), one_b2 = T(1.0 - s.beta_2);
    const T eps = T(s.epsilon), wd = T(s.weight_decay);
    const bool amsgrad = s.amsgrad, decay = s.weight_decay != 0;
    if (s.convention == Convention::keras) {
        // w -= lr*wd*w; alpha = lr*sqrt(bc2)/bc1; m += (1-b1)*(g-m); v += (1-b2)*(g*g-v);
        // vhat = max(vhat, v) (amsgrad); w -= alpha*m/(sqrt(v) + eps)
        const T alpha = T(s.learning_rate * std::sqrt(bc2) / bc1);
        const T lr_wd = T(s.learning_rate * s.weight_decay);
        run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
            T* w = t.param; const T* g = t.grad; T* m = t.state[0]; T* v = t.state[1]; T* vmax = t.state[2];
            auto element = [&](int64_t i, auto ams) {
                const T wi = decay ? w[i] - lr_wd * w[i] : w[i];
                const T gi = g[i];
                const T mi = m[i] + one_b1 * (gi - m[i]);
                T vi = v[i] + one_b2 * (gi * gi - v[i]);
                m[i] = mi;
                v[i] = vi;
                if (ams) {
                    vi = max_nan(vmax[i], vi);
                    vmax[i] = vi;
                }
                w[i] = wi - alpha * mi / (std::sqrt(vi) + eps);
            };
            if (amsgrad) simd_loop(lo, hi, [&](int64_t i) { element(i, std::true_type()); });
            else simd_loop(lo, hi, [&](int64_t i) { element(i, std::false_type()); });
        });
        return;
    }
    // torch: g = -g (maximize); w *= 1 - lr*wd (decoupled) or g += wd*w; m = lerp(m, g, 1-b1);
    // v = b2*v + (1-b2)*g*g (addcmul: one fma); vmax = max(vmax, v) (amsgrad); w -= (lr/bc1)*m/(sqrt(v)/sqrt(bc2) + eps)
    const T step_size = T(s.learning_rate / bc1), bc2_sqrt = T(std::sqrt(bc2));
    const T shrink = T(1.0 - s.learning_rate * s.weight_decay);
    const bool decoupled = decay && s.decoupled_weight_decay, l2 = decay && !s.decoupled_weight_decay;
    const bool maximize = s.maximize;
    run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
        T* w = t.param; const T* g = t.grad; T* m = t.state[0]; T* v = t.state[1]; T* vmax = t.state[2];
        // every option a compile-time flag: with runtime bools in the element, GCC left the loop
        // scalar (3.7x slower than the keras convention's Adam at 1e6 parameters)
        auto element = [&](int64_t i, auto ams, auto dec, auto l2c, auto mx) {
            const T wi = dec ? w[i] * shrink : w[i];
            const T gi = torch_grad(g[i], w[i], bool(mx), bool(l2c), wd);
            const T mi = torch_lerp(m[i], gi, one_b1);
            T vi = std::fma(one_b2 * gi, gi, b2 * v[i]);
            m[i] = mi;
            v[i] = vi;
            if (ams) {
                vi = max_nan(vmax[i], vi);
                vmax[i] = vi;
            }
            w[i] = wi - step_size * mi / (std::sqrt(vi) / bc2_sqrt + eps);
        };
        with_flags([&](auto ams, auto dec, auto l2c, auto mx) {
            simd_loop(lo, hi, [&](int64_t i) { element(i, ams, dec, l2c, mx); });
        }, amsgrad, decoupled, l2, maximize);
    });
}

template <class T>
void adamax_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    const double bc1 = 1.0 - std::pow(s.beta_1, double(s.step));
    const T b2 = T(s.beta_2), one_b1 = T(1.0 - s.beta_1), eps = T(s.epsilon), wd = T(s.weight_decay);
    const bool decay = s.weight_decay != 0;
    if (s.convention == Convention::keras) {
        // w -= lr*wd*w; m += (1-b1)*(g-m); u = max(b2*u, |g|); w -= lr*m/(bc1*(u + eps))
        const T lr = T(s.learning_rate), lr_wd = T(s.learning_rate * s.weight_decay), bc1_t = T(bc1);
        run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
            T* w = t.param; const T* g = t.grad; T* m = t.state[0]; T* u = t.state[1];
            simd_loop(lo, hi, [&](int64_t i) {
                const T wi = decay ? w[i] - lr_wd * w[i] : w[i];
                const T gi = g[i];
                const T mi = m[i] + one_b1 * (gi - m[i]);
                const T ui = max_nan(b2 * u[i], std::abs(gi));
                m[i] = mi;
                u[i] = ui;
                w[i] = wi - lr * mi / (bc1_t * (ui + eps));
            });
        });
        return;
    }
    // torch: g = -g (maximize); g += wd*w; m = lerp(m, g, 1-b1); u = max(b2*u, |g| + eps);
    // w -= (lr/bc1)*m/u
    const T clr = T(s.learning_rate / bc1);
    const bool maximize = s.maximize;
    run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
        T* w = t.param; const T* g = t.grad; T* m = t.state[0]; T* u = t.state[1];
        simd_loop(lo, hi, [&](int64_t i) {
            const T gi = torch_grad(g[i], w[i], maximize, decay, wd);
            const T mi = torch_lerp(m[i], gi, one_b1);
            const T ui = max_nan(b2 * u[i], std::abs(gi) + eps);
            m[i] = mi;
            u[i] = ui;
            w[i] = w[i] - clr * mi / ui;
        });
    });
}

template <class T>
void nadam_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    // The momentum cache (Keras: psi = 1): mu_t, mu_{t+1} and prod_{k<=t} mu_k, in double.
    const bool keras = s.convention == Convention::keras;
    const double psi = keras ? 1.0 : s.momentum_decay;
    const double prod = nadam_mu_product(s.beta_1, psi, s.step);
    const double mu = nadam_mu(s.beta_1, s.step, psi), mu_next = nadam_mu(s.beta_1, s.step + 1, psi);
    const double bc2 = 1.0 - std::pow(s.beta_2, double(s.step));
    const T b2 = T(s.beta_2), one_b1 = T(1.0 - s.beta_1), one_b2 = T(1.0 - s.beta_2);
    const T eps = T(s.epsilon), wd = T(s.weight_decay), bc2_t = T(bc2);
    const bool decay = s.weight_decay != 0;
    if (keras) {
        const T lr = T(s.learning_rate);
        // w -= lr*wd*w; m += (1-b1)*(g-m); v += (1-b2)*(g*g-v);
        // mhat = (mu_next/(1-prod*mu_next))*m + ((1-mu)/(1-prod))*g; w -= lr*mhat/(sqrt(v/bc2) + eps)
        const T cm = T(mu_next / (1.0 - prod * mu_next)), cg = T((1.0 - mu) / (1.0 - prod));
        const T lr_wd = T(s.learning_rate * s.weight_decay);
        run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
            T* w = t.param; const T* g = t.grad; T* m = t.state[0]; T* v = t.state[1];
            simd_loop(lo, hi, [&](int64_t i) {
                const T wi = decay ? w[i] - lr_wd * w[i] : w[i];
                const T gi = g[i];
                const T mi = m[i] + one_b1 * (gi - m[i]);
                const T vi = v[i] + one_b2 * (gi * gi - v[i]);
                m[i] = mi;
                v[i] = vi;
                const T mhat = cm * mi + cg * gi;
                w[i] = wi - lr * mhat / (std::sqrt(vi / bc2_t) + eps);
            });
        });
        return;
    }
    // torch: g = -g (maximize); w *= 1 - lr*wd (decoupled) or g += wd*w; m += (1-b1)*(g-m);
    // v = b2*v + (1-b2)*g*g; d = sqrt(v/bc2) + eps; w += cg*g/d; w += cm*m/d with
    // cg = -lr*(1-mu)/(1-prod), cm = -lr*mu_next/(1-prod*mu_next)
    const T cg = T(-s.learning_rate * (1.0 - mu) / (1.0 - prod));
    const T cm = T(-s.learning_rate * mu_next / (1.0 - prod * mu_next));
    const T shrink = T(1.0 - s.learning_rate * s.weight_decay);
    const bool decoupled = decay && s.decoupled_weight_decay, l2 = decay && !s.decoupled_weight_decay;
    const bool maximize = s.maximize;
    run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
        T* w = t.param; const T* g = t.grad; T* m = t.state[0]; T* v = t.state[1];
        const TorchMoments<T> moments{wd, shrink, one_b1, b2, one_b2};
        auto loop = [&](auto mx, auto l2_on, auto decoupled_on) {
            simd_loop(lo, hi, [&](int64_t i) {
                const auto e = moments(w, g, m, v, i, mx, l2_on, decoupled_on);
                const T d = std::sqrt(e.v / bc2_t) + eps;
                const T w1 = e.w + cg * e.g / d;
                w[i] = w1 + cm * e.m / d;
            });
        };
        with_flags([&](auto mx, auto l2_on, auto decoupled_on) { loop(mx, l2_on, decoupled_on); }, maximize, l2,
                   decoupled);
    });
}

template <class T>
void radam_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    // torch only: g = -g (maximize); w *= 1 - lr*wd (decoupled) or g += wd*w; m += (1-b1)*(g-m);
    // v = b2*v + (1-b2)*g*g; rho_t = rho_inf - 2t*b2^t/bc2 with rho_inf = 2/(1-b2) - 1;
    // rho_t > 5: w -= ((m/bc1)*lr) * (sqrt(bc2)/(sqrt(v) + eps)) * rect, else w -= (m/bc1)*lr
    const double t = double(s.step);
    const double bc1 = 1.0 - std::pow(s.beta_1, t), bc2 = 1.0 - std::pow(s.beta_2, t);
    const double rho_inf = 2.0 / (1.0 - s.beta_2) - 1.0;
    const double rho_t = rho_inf - 2.0 * t * std::pow(s.beta_2, t) / bc2;
    const bool rectify = rho_t > 5.0;
    const double rect = rectify ? std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                            ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)) : 0.0;
    const T b2 = T(s.beta_2), one_b1 = T(1.0 - s.beta_1), one_b2 = T(1.0 - s.beta_2);
    const T eps = T(s.epsilon), wd = T(s.weight_decay), lr = T(s.learning_rate);
    const T bc1_t = T(bc1), bc2_sqrt = T(std::sqrt(bc2)), rect_t = T(rect);
    const T shrink = T(1.0 - s.learning_rate * s.weight_decay);
    const bool decay = s.weight_decay != 0;
    const bool decoupled = decay && s.decoupled_weight_decay, l2 = decay && !s.decoupled_weight_decay;
    const bool maximize = s.maximize;
    run_step(ts, count, 4, [=](const OptimTensor<T>& tn, int64_t lo, int64_t hi) {
        T* w = tn.param; const T* g = tn.grad; T* m = tn.state[0]; T* v = tn.state[1];
        const TorchMoments<T> moments{wd, shrink, one_b1, b2, one_b2};
        auto element = [&](int64_t i, auto rectified, auto mx, auto l2_on, auto decoupled_on) {
            const auto e = moments(w, g, m, v, i, mx, l2_on, decoupled_on);
            const T step = e.m / bc1_t * lr;
            w[i] = rectified ? e.w - step * (bc2_sqrt / (std::sqrt(e.v) + eps)) * rect_t : e.w - step;
        };
        with_flags([&](auto r, auto mx, auto l2_on, auto d) {
            simd_loop(lo, hi, [&](int64_t i) { element(i, r, mx, l2_on, d); });
        }, rectify, maximize, l2, decoupled);
    });
}

template <class T>
void adadelta_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    const T lr = T(s.learning_rate), rho = T(s.rho), one_rho = T(1.0 - s.rho), eps = T(s.epsilon);
    const T wd = T(s.weight_decay), lr_wd = T(s.learning_rate * s.weight_decay);
    const bool keras = s.convention == Convention::keras, decay = s.weight_decay != 0, maximize = s.maximize;
    // keras: w -= lr*wd*w; a = rho*a + (1-rho)*(g*g); d = sqrt(ad + eps)*g/sqrt(a + eps);
    //        ad = rho*ad + (1-rho)*(d*d); w -= lr*d
    // torch: g = -g (maximize); g += wd*w; a = rho*a + (1-rho)*g*g; d = sqrt(ad + eps)/sqrt(a + eps)*g;
    //        ad = rho*ad + (1-rho)*d*d; w -= lr*d
    run_step(ts, count, 4, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
        T* w = t.param; const T* g = t.grad; T* a = t.state[0]; T* ad = t.state[1];
        if (keras) {
            simd_loop(lo, hi, [&](int64_t i) {
                const T wi = decay ? w[i] - lr_wd * w[i] : w[i];
                const T gi = g[i];
                const T ai = rho * a[i] + one_rho * (gi * gi);
                const T di = std::sqrt(ad[i] + eps) * gi / std::sqrt(ai + eps);
                a[i] = ai;
                ad[i] = rho * ad[i] + one_rho * (di * di);
                w[i] = wi - lr * di;
            });
            return;
        }
        with_flags([&](auto mx, auto l2_on) {
            simd_loop(lo, hi, [&](int64_t i) {
                const T gi = torch_grad(g[i], w[i], bool(mx), bool(l2_on), wd);
                const T ai = rho * a[i] + one_rho * gi * gi;
                const T di = std::sqrt(ad[i] + eps) / std::sqrt(ai + eps) * gi;
                a[i] = ai;
                ad[i] = rho * ad[i] + one_rho * di * di;
                w[i] = w[i] - lr * di;
            });
        }, maximize, decay);
    });
}

template <class T>
void lion_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    // keras only: w -= lr*wd*w; c = b1*m + (1-b1)*g; w -= lr*sign(c); m = b2*m + (1-b2)*g
    // (sign as np.sign: 0 for +-0, NaN for NaN)
    const T lr = T(s.learning_rate), lr_wd = T(s.learning_rate * s.weight_decay);
    const T b1 = T(s.beta_1), b2 = T(s.beta_2), one_b1 = T(1.0 - s.beta_1), one_b2 = T(1.0 - s.beta_2);
    const bool decay = s.weight_decay != 0;
    run_step(ts, count, 2, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
        T* w = t.param; const T* g = t.grad; T* m = t.state[0];
        simd_loop(lo, hi, [&](int64_t i) {
            const T wi = decay ? w[i] - lr_wd * w[i] : w[i];
            const T gi = g[i];
            const T ci = b1 * m[i] + one_b1 * gi;
            const T sign = ci > T(0) ? T(1) : ci < T(0) ? T(-1) : ci == T(0) ? T(0) : ci;
            w[i] = wi - lr * sign;
            m[i] = b2 * m[i] + one_b2 * gi;
        });
    });
}

namespace {

// Ftrl's constants, rounded to T once per step.
template <class T>
struct FtrlConstants {
    T lr, lr_wd, shrink2, l1, neg_l1, l2_2;
    bool decay;
};

// Ftrl on elements [lo, hi) of one tensor. Everything comes by value: constants read through a
// lambda's reference captures may alias the T stores, which kept the loop scalar.
template <class T, class Pw>
void ftrl_range(T* w, const T* g, T* acc, T* lin, int64_t lo, int64_t hi, FtrlConstants<T> c, Pw pw) {
    const T lr = c.lr, lr_wd = c.lr_wd, shrink2 = c.shrink2, l1 = c.l1, neg_l1 = c.neg_l1, l2_2 = c.l2_2;
    const bool decay = c.decay;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
        const T wi = decay ? w[i] - lr_wd * w[i] : w[i];
        const T gi = g[i];
        const T g2 = gi + shrink2 * wi;
        const T a0 = acc[i], a1 = a0 + gi * gi;
        const T p1 = pw(a1);
        const T li = lin[i] + (g2 - (p1 - pw(a0)) / lr * wi);
        const T q = p1 / lr + l2_2;
        const T clipped = li < neg_l1 ? neg_l1 : (li > l1 ? l1 : li);
        lin[i] = li;
        acc[i] = a1;
        w[i] = (clipped - li) / q;
    }
}

}  // namespace

template <class T>
void ftrl_update(const OptimTensor<T>* ts, int64_t count, const OptimStep& s) {
    // keras only, with p = -learning_rate_power and pw(x) = sqrt(x) when p == 0.5, else
    // T(pow(double(x), p)): w -= lr*wd*w; g2 = g + (2*l2_shrinkage)*w; acc1 = acc + g*g;
    // lin += g2 - (pw(acc1) - pw(acc))/lr*w; q = pw(acc1)/lr + 2*(l2 + beta/(2*lr));
    // w = (clip(lin, -l1, l1) - lin)/q; acc = acc1
    const double p = -s.lr_power;
    const double beta_term = s.beta == 0 ? 0.0 : s.beta / (2.0 * s.learning_rate);
    const FtrlConstants<T> c{T(s.learning_rate), T(s.learning_rate * s.weight_decay), T(2.0 * s.l2_shrinkage),
                             T(s.l1), T(-s.l1), T(2.0 * (s.l2 + beta_term)), s.weight_decay != 0};
    run_step(ts, count, 8, [=](const OptimTensor<T>& t, int64_t lo, int64_t hi) {
        T* w = t.param; const T* g = t.grad; T* acc = t.state[0]; T* lin = t.state[1];
        if (p == 0.5) ftrl_range(w, g, acc, lin, lo, hi, c, [](T x) { return std::sqrt(x); });
        // pow reads its argument's bits: "+ 0.0" reads x as arithmetic does (a subnormal as 0 under DAZ)
        else ftrl_range(w, g, acc, lin, lo, hi, c, [p](T x) { return T(std::pow(double(x) + 0.0, p)); });
    });
}

#define NNFAST_INSTANTIATE(T)                                                         \
    template void sgd_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&);     \
    template void adagrad_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&); \
    template void rmsprop_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&); \
    template void adam_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&);    \
    template void adamax_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&);  \
    template void nadam_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&);   \
    template void radam_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&);   \
    template void adadelta_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&); \
    template void lion_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&);     \
    template void ftrl_update<T>(const OptimTensor<T>*, int64_t, const OptimStep&);
NNFAST_INSTANTIATE(float)
NNFAST_INSTANTIATE(double)
#undef NNFAST_INSTANTIATE

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
