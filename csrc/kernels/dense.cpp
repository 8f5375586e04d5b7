// The Dense layer y = act(x @ w + b) with w of shape (in, out), forward and backward, on the
// packed GEMM. Forward fuses bias and activation into the GEMM's store (softmax: one row pass
// after). Backward forms dz = dy * act'(y) once, with the bias gradient summed in the same pass,
// then dx = dz w^T and dw = x^T dz read the operands transposed in place, skipping the zeros of a
// mostly-zero x or dz (relu's) with the same bits; on two threads they run side by side, one
// thread each (pairs_products), and dw's thread, once done, takes dx's remaining tiles
// (gemm_shared) unless dx skipped zeros.
#include <cstdint>

#include "dispatch/dispatch.h"
#include "gemm/gemm.h"
#include "gemm/sparse_a.h"
#include "kernels/activation_math.h"
#include "kernels/activations.h"
#include "kernels/dense.h"
#include "memory/workspace.h"
#include "parallel/parallel_for.h"
#include "parallel/threads.h"

namespace nnfast {
namespace NNFAST_ISA_NS {
namespace {

constexpr int64_t kRowBlock = 32;  // rows per partial bias sum: fixed, so db never depends on threads

// dx = dz w^T packs all of w (as w^T's panels) for however few rows dz has. For a batch of at most
// kDxTransposedMaxBatch rows (the GEMM's small-batch limit for reading B in place) fewer than w's
// k rows, and w of at least kDxTransposedMinWeights elements (64 KiB of floats: more than L1
// holds), that packing costs more than the product, so dx^T = w dz^T is computed instead.
constexpr int64_t kDxTransposedMaxBatch = 64;
constexpr int64_t kDxTransposedMinWeights = 16384;

// Whether dx (m, k) = dz (m, n) w^T (n, k) is better computed as dx^T (k, m) = w (k, n) dz^T (n, m).
bool dx_as_transpose(int64_t m, int64_t k, int64_t n) {
    return m <= kDxTransposedMaxBatch && m < k && n * k >= kDxTransposedMinWeights;
}

// dz (m, n) = dy * act'(y) (skipped when dz == dy, linear) and, when db is given,
// db (n) = column sums of dz: partial sums per block of kRowBlock rows, added in block order.
template <class T>
void grad_z_and_bias(T* dz, T* db, const T* y, const T* dy, int64_t m, int64_t n, Activation act) {
    const int64_t blocks = (m + kRowBlock - 1) / kRowBlock;
    T* partial = db ? static_cast<T*>(workspace(kPartials, sizeof(T) * (blocks * n + 1))) : nullptr;
    parallel_for(blocks, 1, kRowBlock * n * 2, [&](int64_t b0, int64_t b1) {
        for (int64_t blk = b0; blk < b1; ++blk) {
            const int64_t r0 = blk * kRowBlock, rows = m - r0 < kRowBlock ? m - r0 : kRowBlock;
            if (dz != dy) activation_backward_rows(dz + r0 * n, y + r0 * n, dy + r0 * n, rows, n, act);
            if (!partial) continue;
            T* part = partial + blk * n;
            for (int64_t j = 0; j < n; ++j) part[j] = T(0);
            for (int64_t r = 0; r < rows; ++r) {
                const T* row = dz + (r0 + r) * n;
#pragma omp simd
                for (int64_t j = 0; j < n; ++j) part[j] += row[j];
            }
        }
    });
    if (!db) return;
    for (int64_t j = 0; j < n; ++j) db[j] = T(0);
    for (int64_t blk = 0; blk < blocks; ++blk)
        for (int64_t j = 0; j < n; ++j) db[j] += partial[blk * n + j];
}

// dx (m, k) = dz (m, n) w^T (n, k). Packing w^T gathers all of w; when w is large and the batch
// small (so few row panels share that packing), computing dx^T (k, m) = w (k, n) dz^T (n, m)
// packs only dz^T and stores the tiles transposed instead. Otherwise a dz that is mostly zeros
// (relu's, half zeros) skips them, with the same bits (1024x256x784 at half nonzeros, Zen 4:
// 0.68x the GEMM's time). With `share`, two threads share the product's tiles (gemm_shared;
// `lead` packs, or tells the other there is nothing to share when it skipped dz's zeros), else
// it runs as one gemm.
template <class T>
void input_gradient(T* dx, const T* w, const T* dz, int64_t m, int64_t k, int64_t n, TileShare* share = nullptr,
                    bool lead = true) {
    // C = dx^T (k, m) = w dz^T, stored transposed, or C = dx (m, k) = dz w^T
    const bool transposed = dx_as_transpose(m, k, n);
    if (lead && !transposed &&
        sparse_a_product<T>(dx, k, 1, dz, n, 1, w, 1, n, nullptr, m, k, n, Activation::linear)) {
        if (share) share->state.store(TileShare::kNotShared, std::memory_order_release);
        return;
    }
    const int64_t c_rs = transposed ? 1 : k, c_cs = transposed ? k : 1;
    const int64_t rows = transposed ? k : m, cols = transposed ? m : k;
    const T* a = transposed ? w : dz;
    const T* b = transposed ? dz : w;
    if (share) return gemm_shared<T>(*share, lead, dx, c_rs, c_cs, a, n, 1, b, 1, n, rows, cols, n);
    gemm<T>(dx, c_rs, c_cs, a, n, 1, b, 1, n, nullptr, rows, cols, n, Activation::linear);
}

// dw (k, n) = x^T (k, m) dz (m, n), x read transposed in place, skipping its zeros when it is
// mostly zeros, as after relu and dropout; else skipping dz's zeros as dw^T = dz^T x (stored
// transposed: over a small batch it needs a sparser dz to pay, gemm/sparse_a.cpp). The same bits
// either way (each sum runs over the batch in order).
template <class T>
void weight_gradient(T* dw, const T* x, const T* dz, int64_t m, int64_t k, int64_t n) {
    if (sparse_a_product<T>(dw, n, 1, x, 1, k, dz, n, 1, nullptr, k, n, m, Activation::linear)) return;
    if (sparse_a_product<T>(dw, 1, n, dz, 1, n, x, k, 1, nullptr, n, k, m, Activation::linear)) return;
    gemm<T>(dw, n, 1, x, 1, k, dz, n, 1, nullptr, k, n, m, Activation::linear);
}

// Whether dx and dw, each m x k x n multiply-adds, run at once on one thread each rather than one
// after the other on two: on two threads, for products that would each split over both. Each
// thread then reads only its own product's operands, with no barrier between them (fwd+bwd, 2
// threads: 1.51x the GFLOP/s at 32x784x128, 1.05x at 1024x784x256; the tabular Keras model's
// epoch 0.97x the time), until dw's thread ends and takes dx's last tiles from dx's packed panels
// (the tabular model's 2-thread epoch 0.96-0.995x the time again). The products' bits do not
// depend on their threads. With more threads, each product splits over all of them as before.
bool pairs_products(int64_t m, int64_t k, int64_t n) {
    return num_threads() == 2 && threads_for(m * k * n / kMultiplyAddsPerWorkUnit) == 2;
}

}  // namespace

template <class T>
void dense_forward(T* y, const T* x, const T* w, const T* b, int64_t m, int64_t k, int64_t n, Activation act) {
    const bool softmax = act == Activation::softmax;
    const Activation fused = softmax ? Activation::linear : act;
    // an input that is mostly zeros (after relu and dropout) skips them, with the same bits
    if (!sparse_a_product<T>(y, n, 1, x, k, 1, w, n, 1, b, m, n, k, fused)) gemm<T>(y, n, 1, x, k, 1, w, n, 1, b, m, n, k, fused);
    if (softmax) activation_forward<T>(y, y, m, n, act);
}

template <class T>
void dense_backward(T* dx, T* dw, T* db, const T* x, const T* w, const T* y, const T* dy, int64_t m,
                    int64_t k, int64_t n, Activation act) {
    T* dz = act == Activation::linear ? const_cast<T*>(dy)
                                      : static_cast<T*>(workspace(kGradZ, sizeof(T) * (m * n + 1)));
    grad_z_and_bias(dz, db, y, dy, m, n, act);
    // dx first: it reads w, which a forward pass has just left in cache, where dw's product (its
    // output as large as w) would evict it first (128x784x256 float: dx took 370 us after dw, 298
    // alone). Unless dx is x's own memory, which dw still reads. The order changes no bits.
    const uintptr_t dx_at = reinterpret_cast<uintptr_t>(dx), x_at = reinterpret_cast<uintptr_t>(x);
    const uintptr_t bytes = uintptr_t(m * k) * sizeof(T);
    const bool dx_first = dx && (dx_at + bytes <= x_at || x_at + bytes <= dx_at);
    if (dx_first && pairs_products(m, k, n)) {
        // dw, skipping its input's zeros, usually ends first: its thread then takes dx's last tiles
        TileShare share;
        run_on_threads(2, [&](int tid, int threads) {
            ThreadCap one(1);
            if (tid == 0) {
                share.lead_waits_for_other = threads == 2 && shared_lead_held();
                input_gradient(dx, w, dz, m, k, n, &share, true);
            }
            if (tid == 1 || threads == 1) weight_gradient(dw, x, dz, m, k, n);
            if (tid == 1) input_gradient(dx, w, dz, m, k, n, &share, false);
        });
        return;
    }
    if (dx_first) input_gradient(dx, w, dz, m, k, n);
    weight_gradient(dw, x, dz, m, k, n);
    if (dx && !dx_first) input_gradient(dx, w, dz, m, k, n);
}

template void dense_forward<float>(float*, const float*, const float*, const float*, int64_t, int64_t, int64_t, Activation);
template void dense_forward<double>(double*, const double*, const double*, const double*, int64_t, int64_t, int64_t, Activation);
template void dense_backward<float>(float*, float*, float*, const float*, const float*, const float*, const float*,
                                    int64_t, int64_t, int64_t, Activation);
template void dense_backward<double>(double*, double*, double*, const double*, const double*, const double*,
                                     const double*, int64_t, int64_t, int64_t, Activation);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
