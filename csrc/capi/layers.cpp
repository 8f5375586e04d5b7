// The C API's layer entries: gemm, dense forward/backward, activations, losses, dropout, the
// embedding gradient and the thread setting. Each checks every argument (capi/validate.h), then calls the dispatched kernel.
#include <cstdint>
#include <tuple>

#include "capi/capi.h"
#include "capi/kernel_call.h"
#include "parallel/threads.h"

namespace nnfast {
namespace capi {
namespace {

// The bytes of a row-major (rows, cols) matrix with leading dimension ld >= cols.
template <class T>
Region strided(const T* p, int64_t rows, int64_t cols, int64_t ld, const char* name) {
    return region(p, rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0, name);
}

// ERR_SIZE unless ld >= max(1, cols) and the (rows, cols) matrix it spans has at most kMaxElements.
int leading_dim(const Ctx& c, int64_t ld, int64_t rows, int64_t cols, const char* name) {
    if (ld < (cols > 1 ? cols : 1))
        return fail(c, NNFAST_ERR_SIZE, "%s must be >= max(1, %lld) (the stored matrix's columns), got %lld", name,
                    static_cast<long long>(cols), static_cast<long long>(ld));
    int64_t span;
    return product(c, rows, ld, name, &span);
}

template <class T>
int gemm(T* c, int64_t ldc, const T* a, int64_t lda, const T* b, int64_t ldb, const T* bias, int64_t m, int64_t n,
         int64_t k, int trans_a, int trans_b, int act) {
    const Ctx x = ctx<T>("gemm");
    NNFAST_CHECK(nonnegative(x, m, "m"));
    NNFAST_CHECK(nonnegative(x, n, "n"));
    NNFAST_CHECK(nonnegative(x, k, "k"));
    NNFAST_CHECK(activation(x, act, false));
    // A is stored (m, k), or (k, m) when transposed; B (k, n), or (n, k).
    const int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
    const int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
    NNFAST_CHECK(leading_dim(x, ldc, m, n, "ldc"));
    NNFAST_CHECK(leading_dim(x, lda, a_rows, a_cols, "lda"));
    NNFAST_CHECK(leading_dim(x, ldb, b_rows, b_cols, "ldb"));
    NNFAST_CHECK(present(x, c, m > 0 && n > 0, "c"));
    NNFAST_CHECK(present(x, a, m > 0 && k > 0, "a"));
    NNFAST_CHECK(present(x, b, k > 0 && n > 0, "b"));
    const Region rc = strided(c, m, n, ldc, "c");
    NNFAST_CHECK(disjoint(x, rc, strided(a, a_rows, a_cols, lda, "a")));
    NNFAST_CHECK(disjoint(x, rc, strided(b, b_rows, b_cols, ldb, "b")));
    NNFAST_CHECK(disjoint(x, rc, region(bias, n, "bias")));
    // op(A)(i, p) and op(B)(p, j) as strides over the stored matrices: a transpose swaps them
    const int64_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
    const int64_t b_rs = trans_b ? 1 : ldb, b_cs = trans_b ? ldb : 1;
    return run(x, [&] {
        kernels<T>().gemm(c, ldc, 1, a, a_rs, a_cs, b, b_rs, b_cs, bias, m, n, k, static_cast<Activation>(act));
    });
}

// The checks dense_forward and dense_backward share: m, k, n, the element counts of (m, k), (k, n)
// and (m, n), the activation, and the inputs x and w.
template <class T>
int dense_inputs(const Ctx& c, int64_t m, int64_t k, int64_t n, int act, const T* x, const T* w, int64_t* mk,
                 int64_t* kn, int64_t* mn) {
    NNFAST_CHECK(nonnegative(c, m, "m"));
    NNFAST_CHECK(nonnegative(c, k, "k"));
    NNFAST_CHECK(nonnegative(c, n, "n"));
    NNFAST_CHECK(product(c, m, k, "x", mk));
    NNFAST_CHECK(product(c, k, n, "w", kn));
    NNFAST_CHECK(product(c, m, n, "y", mn));
    NNFAST_CHECK(activation(c, act));
    NNFAST_CHECK(present(c, x, *mk > 0, "x"));
    return present(c, w, *kn > 0, "w");
}

template <class T>
int dense_forward(T* y, const T* x, const T* w, const T* b, int64_t m, int64_t k, int64_t n, int act) {
    const Ctx c = ctx<T>("dense_forward");
    int64_t mk, kn, mn;
    NNFAST_CHECK(dense_inputs(c, m, k, n, act, x, w, &mk, &kn, &mn));
    NNFAST_CHECK(present(c, y, mn > 0, "y"));
    const Region ry = region(y, mn, "y");
    NNFAST_CHECK(disjoint(c, ry, region(x, mk, "x")));
    NNFAST_CHECK(disjoint(c, ry, region(w, kn, "w")));
    NNFAST_CHECK(disjoint(c, ry, region(b, n, "b")));
    return run(c, [&] { kernels<T>().dense_forward(y, x, w, b, m, k, n, static_cast<Activation>(act)); });
}

template <class T>
int dense_backward(T* dx, T* dw, T* db, const T* x, const T* w, const T* y, const T* dy, int64_t m, int64_t k,
                   int64_t n, int act) {
    const Ctx c = ctx<T>("dense_backward");
    int64_t mk, kn, mn;
    NNFAST_CHECK(dense_inputs(c, m, k, n, act, x, w, &mk, &kn, &mn));
    NNFAST_CHECK(present(c, dw, kn > 0, "dw"));
    NNFAST_CHECK(present(c, y, mn > 0, "y"));
    NNFAST_CHECK(present(c, dy, mn > 0, "dy"));
    Region out[3] = {region(dx, mk, "dx"), region(dw, kn, "dw"), region(db, n, "db")};
    const Region in[4] = {region(x, mk, "x"), region(w, kn, "w"), region(y, mn, "y"), region(dy, mn, "dy")};
    NNFAST_CHECK(no_overlaps(c, out, 3, in, 4));
    return run(c, [&] { kernels<T>().dense_backward(dx, dw, db, x, w, y, dy, m, k, n, static_cast<Activation>(act)); });
}

int matrix_sizes(const Ctx& c, int64_t rows, int64_t cols, int64_t* count) {
    NNFAST_CHECK(nonnegative(c, rows, "rows"));
    NNFAST_CHECK(nonnegative(c, cols, "cols"));
    return product(c, rows, cols, "the (rows, cols) array", count);
}

// The checks both activation directions make: sizes, the activation, and an output `out` that may
// be the input `in` exactly (in place) but not overlap it otherwise.
template <class T>
int activation_args(const Ctx& c, int64_t rows, int64_t cols, int act, const T* out, const char* out_name,
                    const T* in, const char* in_name, int64_t* count) {
    NNFAST_CHECK(matrix_sizes(c, rows, cols, count));
    NNFAST_CHECK(activation(c, act));
    NNFAST_CHECK(present(c, out, *count > 0, out_name));
    NNFAST_CHECK(present(c, in, *count > 0, in_name));
    return same_or_disjoint(c, region(out, *count, out_name), region(in, *count, in_name));
}

template <class T>
int activation_forward(T* y, const T* z, int64_t rows, int64_t cols, int act) {
    const Ctx c = ctx<T>("activation_forward");
    int64_t count;
    NNFAST_CHECK(activation_args(c, rows, cols, act, y, "y", z, "z", &count));
    return run(c, [&] { kernels<T>().activation_forward(y, z, rows, cols, static_cast<Activation>(act)); });
}

template <class T>
int activation_backward(T* dz, const T* y, const T* dy, int64_t rows, int64_t cols, int act) {
    const Ctx c = ctx<T>("activation_backward");
    int64_t count;
    NNFAST_CHECK(activation_args(c, rows, cols, act, dz, "dz", y, "y", &count));
    NNFAST_CHECK(present(c, dy, count > 0, "dy"));
    NNFAST_CHECK(same_or_disjoint(c, region(dz, count, "dz"), region(dy, count, "dy")));
    return run(c, [&] { kernels<T>().activation_backward(dz, y, dy, rows, cols, static_cast<Activation>(act)); });
}

// `status` unless every values[i] (n) lies in [0, limit); the message begins with `what`.
int all_in_range(const Ctx& c, const int64_t* values, int64_t n, int64_t limit, int status, const char* what) {
    for (int64_t i = 0; i < n; ++i)
        if (values[i] < 0 || values[i] >= limit)
            return fail(c, status, "%s in [0, %lld), got %lld at position %lld", what, static_cast<long long>(limit),
                        static_cast<long long>(values[i]), static_cast<long long>(i));
    return NNFAST_OK;
}

// The outputs of a loss (loss, grad) overlap neither each other nor its inputs.
int loss_outputs(const Ctx& c, const double* loss, const Region& grad, std::initializer_list<Region> inputs) {
    NNFAST_CHECK(present(c, loss, true, "loss"));
    const Region rl = region(loss, 1, "loss");
    NNFAST_CHECK(disjoint(c, rl, grad));
    for (const Region& in : inputs) {
        NNFAST_CHECK(disjoint(c, grad, in));
        NNFAST_CHECK(disjoint(c, rl, in));
    }
    return NNFAST_OK;
}

template <class T>
int softmax_cross_entropy(double* loss, T* grad, const T* logits, const int64_t* labels, const T* target, int64_t rows,
                          int64_t cols, double label_smoothing) {
    const Ctx c = ctx<T>("softmax_cross_entropy");
    int64_t count;
    NNFAST_CHECK(matrix_sizes(c, rows, cols, &count));
    if (rows > 0 && cols == 0) return fail(c, NNFAST_ERR_SIZE, "cols must be >= 1 (one class at least), got 0");
    NNFAST_CHECK(in_range(c, label_smoothing, "label_smoothing", 0.0, 1.0));
    if (labels && target) return fail(c, NNFAST_ERR_VALUE, "give labels or target, not both");
    NNFAST_CHECK(present(c, labels ? static_cast<const void*>(labels) : target, rows > 0, "labels (or target)"));
    NNFAST_CHECK(present(c, grad, count > 0, "grad"));
    NNFAST_CHECK(present(c, logits, count > 0, "logits"));
    NNFAST_CHECK(loss_outputs(c, loss, region(grad, count, "grad"),
                              {region(logits, count, "logits"), region(labels, rows, "labels"),
                               region(target, count, "target")}));
    if (labels) NNFAST_CHECK(all_in_range(c, labels, rows, cols, NNFAST_ERR_LABEL, "labels must be class indices"));
    return run(c, [&] {
        *loss = kernels<T>().row_loss(grad, logits, labels, target, rows, cols, Loss::softmax_cross_entropy,
                                      label_smoothing);
    });
}

template <class T>
int pointwise(const char* fn, Loss kind, double* loss, T* grad, const T* pred, const T* target, int64_t n,
              double param) {
    const Ctx c = ctx<T>(fn);
    NNFAST_CHECK(nonnegative(c, n, "n"));
    NNFAST_CHECK(product(c, n, 1, "pred", &n));
    if (kind == Loss::binary_cross_entropy) NNFAST_CHECK(in_range(c, param, "label_smoothing", 0.0, 1.0));
    NNFAST_CHECK(present(c, grad, n > 0, "grad"));
    NNFAST_CHECK(present(c, pred, n > 0, kind == Loss::binary_cross_entropy ? "prob" : "pred"));
    NNFAST_CHECK(present(c, target, n > 0, "target"));
    NNFAST_CHECK(loss_outputs(c, loss, region(grad, n, "grad"), {region(pred, n, "pred"), region(target, n, "target")}));
    return run(c, [&] { *loss = kernels<T>().pointwise_loss(grad, pred, target, n, kind, param); });
}

template <class T>
int mse(double* loss, T* grad, const T* pred, const T* target, int64_t n) {
    return pointwise("mse", Loss::mse, loss, grad, pred, target, n, 0.0);
}
template <class T>
int mae(double* loss, T* grad, const T* pred, const T* target, int64_t n) {
    return pointwise("mae", Loss::mae, loss, grad, pred, target, n, 0.0);
}
template <class T>
int binary_cross_entropy(double* loss, T* grad, const T* prob, const T* target, int64_t n, double label_smoothing) {
    return pointwise("binary_cross_entropy", Loss::binary_cross_entropy, loss, grad, prob, target, n, label_smoothing);
}

// A dropout call's length n (at most kMaxElements) and rate in [0, 1).
int dropout_sizes(const Ctx& c, int64_t n, double rate) {
    NNFAST_CHECK(nonnegative(c, n, "n"));
    NNFAST_CHECK(product(c, n, 1, "n", &n));
    return in_range(c, rate, "rate", 0.0, 1.0, true);
}

template <class T>
int dropout_forward(T* y, uint8_t* mask, const T* x, int64_t n, double rate, uint64_t seed) {
    const Ctx c = ctx<T>("dropout_forward");
    NNFAST_CHECK(dropout_sizes(c, n, rate));
    NNFAST_CHECK(present(c, y, n > 0, "y"));
    NNFAST_CHECK(present(c, mask, n > 0, "mask"));
    NNFAST_CHECK(present(c, x, n > 0, "x"));
    const Region ry = region(y, n, "y"), rm = region(mask, n, "mask");
    NNFAST_CHECK(same_or_disjoint(c, ry, region(x, n, "x")));
    NNFAST_CHECK(disjoint(c, rm, region(x, n, "x")));
    NNFAST_CHECK(disjoint(c, rm, ry));
    return run(c, [&] { kernels<T>().dropout_forward(y, mask, x, n, rate, seed); });
}

template <class T>
int dropout_backward(T* dx, const T* dy, const uint8_t* mask, int64_t n, double rate) {
    const Ctx c = ctx<T>("dropout_backward");
    NNFAST_CHECK(dropout_sizes(c, n, rate));
    NNFAST_CHECK(present(c, dx, n > 0, "dx"));
    NNFAST_CHECK(present(c, dy, n > 0, "dy"));
    NNFAST_CHECK(present(c, mask, n > 0, "mask"));
    const Region rdx = region(dx, n, "dx");
    NNFAST_CHECK(same_or_disjoint(c, rdx, region(dy, n, "dy")));
    NNFAST_CHECK(disjoint(c, rdx, region(mask, n, "mask")));
    return run(c, [&] { kernels<T>().dropout_backward(dx, dy, mask, n, rate); });
}

template <class T>
int embedding_backward(T* dw, const T* dy, const int64_t* indices, int64_t n, int64_t rows, int64_t cols) {
    const Ctx c = ctx<T>("embedding_backward");
    int64_t table, grads;
    NNFAST_CHECK(nonnegative(c, n, "n"));
    NNFAST_CHECK(matrix_sizes(c, rows, cols, &table));
    NNFAST_CHECK(product(c, n, cols, "dy (n, cols)", &grads));
    for (const auto& [pointer, needed, name] : {std::tuple<const void*, bool, const char*>{dw, table > 0, "dw"},
                                                {dy, grads > 0, "dy"}, {indices, n > 0, "indices"}})
        NNFAST_CHECK(present(c, pointer, needed, name));
    const Region rdw = region(dw, table, "dw");
    NNFAST_CHECK(disjoint(c, rdw, region(dy, grads, "dy")));
    NNFAST_CHECK(disjoint(c, rdw, region(indices, n, "indices")));
    NNFAST_CHECK(all_in_range(c, indices, n, rows, NNFAST_ERR_INDEX, "indices must be rows of dw"));
    return run(c, [&] { kernels<T>().embedding_backward(dw, dy, indices, n, rows, cols); });
}

int set_threads(int n) {
    if (n < 1 || n > 4096)
        return fail(Ctx{"set_num_threads", nullptr}, NNFAST_ERR_VALUE, "n must be between 1 and 4096, got %d", n);
    set_num_threads(n);
    return NNFAST_OK;
}

int get_threads(int* n) {
    NNFAST_CHECK(present(Ctx{"get_num_threads", nullptr}, n, true, "n"));
    *n = num_threads();
    return NNFAST_OK;
}

}  // namespace

void fill_layer_entries(nnfast_capi* t) {
    t->status_message = &status_message;
    t->last_error = &last_error;
    t->set_num_threads = &set_threads;
    t->get_num_threads = &get_threads;
#define NNFAST_BOTH(name)            \
    t->name##_f32 = &name<float>;    \
    t->name##_f64 = &name<double>;
    NNFAST_BOTH(gemm)
    NNFAST_BOTH(dense_forward)
    NNFAST_BOTH(dense_backward)
    NNFAST_BOTH(activation_forward)
    NNFAST_BOTH(activation_backward)
    NNFAST_BOTH(softmax_cross_entropy)
    NNFAST_BOTH(mse)
    NNFAST_BOTH(mae)
    NNFAST_BOTH(binary_cross_entropy)
    NNFAST_BOTH(dropout_forward)
    NNFAST_BOTH(dropout_backward)
    NNFAST_BOTH(embedding_backward)
#undef NNFAST_BOTH
}

}  // namespace capi
}  // namespace nnfast
