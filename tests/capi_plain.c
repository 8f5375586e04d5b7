/* A plain-C user of nnfast's C API (tests/test_capi_c.py compiles it as C99 into a shared library
 * and loads it with ctypes): thin calls through the table, and the header's Python-side loader. */
#include <Python.h>

#include "nnfast/nnfast.h"

/* The loader of the header: the table's address as an int, or NULL with the ImportError set. */
PyObject* load_table(void) {
    const nnfast_capi* api = nnfast_capi_load();
    return api ? PyLong_FromVoidPtr((void*)api) : NULL;
}

int compatible(const nnfast_capi* api) { return nnfast_capi_compatible(api); }
unsigned header_version(void) { return NNFAST_CAPI_VERSION; }
unsigned header_table_size(void) { return (unsigned)sizeof(nnfast_capi); }
unsigned header_step_size(void) { return (unsigned)sizeof(nnfast_optim_step); }
unsigned header_tensor_size(void) { return (unsigned)sizeof(nnfast_tensor_f32); }
const char* status_message(const nnfast_capi* api, int status) { return api->status_message(status); }
const char* last_error(const nnfast_capi* api) { return api->last_error(); }
int set_threads(const nnfast_capi* api, int n) { return api->set_num_threads(n); }
int get_threads(const nnfast_capi* api, int* n) { return api->get_num_threads(n); }

int gemm_f32(const nnfast_capi* api, float* c, int64_t ldc, const float* a, int64_t lda, const float* b,
             int64_t ldb, const float* bias, int64_t m, int64_t n, int64_t k, int ta, int tb, int act) {
    return api->gemm_f32(c, ldc, a, lda, b, ldb, bias, m, n, k, ta, tb, act);
}

int dense_forward_f32(const nnfast_capi* api, float* y, const float* x, const float* w, const float* b, int64_t m,
                      int64_t k, int64_t n, int act) {
    return api->dense_forward_f32(y, x, w, b, m, k, n, act);
}

int dense_forward_f64(const nnfast_capi* api, double* y, const double* x, const double* w, const double* b,
                      int64_t m, int64_t k, int64_t n, int act) {
    return api->dense_forward_f64(y, x, w, b, m, k, n, act);
}

int dense_backward_f32(const nnfast_capi* api, float* dx, float* dw, float* db, const float* x, const float* w,
                       const float* y, const float* dy, int64_t m, int64_t k, int64_t n, int act) {
    return api->dense_backward_f32(dx, dw, db, x, w, y, dy, m, k, n, act);
}

int activation_forward_f32(const nnfast_capi* api, float* y, const float* z, int64_t rows, int64_t cols, int act) {
    return api->activation_forward_f32(y, z, rows, cols, act);
}

int softmax_cross_entropy_f32(const nnfast_capi* api, double* loss, float* grad, const float* logits,
                              const int64_t* labels, const float* target, int64_t rows, int64_t cols, double ls) {
    return api->softmax_cross_entropy_f32(loss, grad, logits, labels, target, rows, cols, ls);
}

int mse_f64(const nnfast_capi* api, double* loss, double* grad, const double* pred, const double* target, int64_t n) {
    return api->mse_f64(loss, grad, pred, target, n);
}

int binary_cross_entropy_f32(const nnfast_capi* api, double* loss, float* grad, const float* prob,
                             const float* target, int64_t n, double ls) {
    return api->binary_cross_entropy_f32(loss, grad, prob, target, n, ls);
}

int dropout_forward_f32(const nnfast_capi* api, float* y, uint8_t* mask, const float* x, int64_t n, double rate,
                        uint64_t seed) {
    return api->dropout_forward_f32(y, mask, x, n, rate, seed);
}

/* An Adam step (f64) over `count` tensors given as parallel arrays of pointers. */
int adam_update_f64(const nnfast_capi* api, double** params, const double** grads, double** m, double** v,
                    double** vmax, const int64_t* sizes, int64_t count, int64_t step, double lr, int convention,
                    int amsgrad) {
    nnfast_tensor_f64 ts[8];
    nnfast_optim_step s;
    int64_t i;
    if (count > 8) return -1;
    for (i = 0; i < count; ++i) {
        ts[i].param = params[i];
        ts[i].grad = grads[i];
        ts[i].state[0] = m[i];
        ts[i].state[1] = v[i];
        ts[i].state[2] = vmax ? vmax[i] : NULL;
        ts[i].size = sizes[i];
    }
    nnfast_optim_step_init(&s, convention);
    s.step = step;
    s.learning_rate = lr;
    s.beta_1 = 0.9;
    s.beta_2 = 0.999;
    s.epsilon = 1e-7;
    s.amsgrad = amsgrad;
    return api->adam_update_f64(count ? ts : NULL, count, &s);
}

/* An SGD step (f32, one tensor) with the given momentum, nesterov and convention. */
int sgd_update_f32(const nnfast_capi* api, float* param, const float* grad, float* buf, int64_t size, int64_t step,
                   double lr, double momentum, int nesterov, int convention, uint32_t struct_size) {
    nnfast_tensor_f32 t;
    nnfast_optim_step s;
    t.param = param;
    t.grad = grad;
    t.state[0] = buf;
    t.state[1] = t.state[2] = NULL;
    t.size = size;
    nnfast_optim_step_init(&s, convention);
    s.size = struct_size ? struct_size : s.size;
    s.step = step;
    s.learning_rate = lr;
    s.momentum = momentum;
    s.nesterov = nesterov;
    return api->sgd_update_f32(&t, 1, &s);
}
