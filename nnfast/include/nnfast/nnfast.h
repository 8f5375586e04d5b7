/* nnfast.h: nnfast's C API, a versioned table of plain-C functions over nnfast's kernels.
 *
 * Get the table from the capsule nnfast._core._C_API: from a C or Cython extension with
 * nnfast_import() below (include Python.h first), or from anywhere else with the capsule's pointer
 * (PyCapsule_GetPointer(capsule, "nnfast._core._C_API")) checked by nnfast_capi_compatible().
 * `nnfast.get_include()` is the folder to put on the include path; docs/capi.md has the guide.
 *
 * Conventions: arguments are raw pointers plus sizes, outputs first, then inputs, then sizes, then
 * options, as in nnfast's kernels. Arrays are C-contiguous (row-major) unless a leading dimension
 * says otherwise. _f32 functions take float, _f64 functions double. Every function returns a status:
 * NNFAST_OK, or an error code after which no output has been touched; nnfast_capi.status_message()
 * names the code and nnfast_capi.last_error() says which argument was wrong (per thread). The
 * functions take no Python lock and may be called without the GIL, from any thread.
 *
 * ABI: the table only ever grows at its end. `version` and `size` are the library's; an extension
 * built against this header needs version >= NNFAST_CAPI_VERSION and size >= sizeof(nnfast_capi),
 * which nnfast_import() and nnfast_capi_compatible() check, so a newer nnfast serves it unchanged.
 */
#ifndef NNFAST_NNFAST_H
#define NNFAST_NNFAST_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NNFAST_CAPI_VERSION 2 /* 2: embedding_backward, NNFAST_ERR_INDEX */
#define NNFAST_CAPI_CAPSULE "nnfast._core._C_API"

/* Status codes. */
#define NNFAST_OK 0
#define NNFAST_ERR_NULL_POINTER 1 /* a required pointer is NULL */
#define NNFAST_ERR_SIZE 2         /* a size or leading dimension is negative, too small or too large */
#define NNFAST_ERR_ALIASING 3     /* an output overlaps an input or another output */
#define NNFAST_ERR_ACTIVATION 4   /* an unknown activation code, or one the function does not take */
#define NNFAST_ERR_LABEL 5        /* a class label outside [0, classes) */
#define NNFAST_ERR_VALUE 6        /* a hyperparameter, rate, convention or thread count out of range */
#define NNFAST_ERR_VERSION 7      /* a struct whose size field this library does not know */
#define NNFAST_ERR_INTERNAL 8     /* out of memory or another failure inside nnfast */
#define NNFAST_ERR_INDEX 9        /* an index outside [0, rows) (version 2) */

/* Activations (nnfast.ops's names; leaky_relu's slope is 0.2; softmax is over each row). */
#define NNFAST_LINEAR 0
#define NNFAST_RELU 1
#define NNFAST_LEAKY_RELU 2
#define NNFAST_SIGMOID 3
#define NNFAST_TANH 4
#define NNFAST_SOFTMAX 5

/* Optimizer conventions (docs/design.md, "Optimizer conventions"); DLFS is only for SGD. */
#define NNFAST_KERAS 0
#define NNFAST_TORCH 1
#define NNFAST_DLFS 2

/* One tensor of a multi-tensor optimizer step: param (size) updated in place from grad (size); state
 * holds the optimizer's slots in the order of nnfast.ops's update function (adam: exp_avgs,
 * exp_avg_sqs, max_exp_avg_sqs; sgd: momentum_buffers; ...); a slot the options do not use is
 * ignored and may be NULL. Written arrays must not overlap each other or any grad. */
typedef struct nnfast_tensor_f32 {
    float* param;
    const float* grad;
    float* state[3];
    int64_t size;
} nnfast_tensor_f32;

typedef struct nnfast_tensor_f64 {
    double* param;
    const double* grad;
    double* state[3];
    int64_t size;
} nnfast_tensor_f64;

/* The hyperparameters of one optimizer step, with nnfast.ops's names and ranges. Fill it with
 * nnfast_optim_step_init (which sets `size`, the convention, step 1 and zero elsewhere), then set
 * what the optimizer uses: every value is explicit here (no per-convention defaults). */
typedef struct nnfast_optim_step {
    uint32_t size; /* sizeof(nnfast_optim_step) as the caller compiled it */
    int32_t convention;
    int64_t step; /* 1-based */
    double learning_rate, weight_decay, epsilon;
    double momentum, dampening, lr_decay, rho, beta_1, beta_2;
    double momentum_decay;                           /* torch NAdam */
    double lr_power, l1, l2, l2_shrinkage, beta;     /* Keras Ftrl */
    int32_t nesterov, centered, amsgrad, decoupled_weight_decay, maximize;
} nnfast_optim_step;

static inline void nnfast_optim_step_init(nnfast_optim_step* s, int convention) {
    memset(s, 0, sizeof(*s));
    s->size = (uint32_t)sizeof(*s);
    s->convention = convention;
    s->step = 1;
}

typedef int (*nnfast_update_f32)(const nnfast_tensor_f32* tensors, int64_t count, const nnfast_optim_step* s);
typedef int (*nnfast_update_f64)(const nnfast_tensor_f64* tensors, int64_t count, const nnfast_optim_step* s);

/* The function table. Each entry is described once for float; the _f64 twin takes double. */
typedef struct nnfast_capi {
    uint32_t version; /* NNFAST_CAPI_VERSION of the library */
    uint32_t size;    /* sizeof(nnfast_capi) of the library */

    /* A static description of a status code (never NULL). */
    const char* (*status_message)(int status);
    /* The calling thread's message about its last failed call: which argument, what was wrong. */
    const char* (*last_error)(void);
    /* nnfast.set_num_threads / get_num_threads: n in [1, 4096]; process-wide. */
    int (*set_num_threads)(int n);
    int (*get_num_threads)(int* n);

    /* C (m, n) = act(op(A) (m, k) op(B) (k, n) + bias (n)), op a transpose when its flag is set.
     * Row-major with leading dimensions: C(i, j) = c[i*ldc + j], ldc >= n; A is stored (m, k) with
     * lda >= k, or (k, m) with lda >= m when trans_a; B (k, n) with ldb >= n, or (n, k) with ldb >= k
     * when trans_b. bias may be NULL; act is element-wise (not softmax). c must not overlap a, b, bias. */
    int (*gemm_f32)(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb,
                    const float* bias, int64_t m, int64_t n, int64_t k, int trans_a, int trans_b, int act);
    int (*gemm_f64)(double* c, int64_t ldc, const double* a, int64_t lda, const double* b, int64_t ldb,
                    const double* bias, int64_t m, int64_t n, int64_t k, int trans_a, int trans_b, int act);
    /* y (m, n) = act(x (m, k) @ w (k, n) + b (n)); b may be NULL; y must not overlap x, w, b. */
    int (*dense_forward_f32)(float* y, const float* x, const float* w, const float* b, int64_t m, int64_t k,
                             int64_t n, int act);
    int (*dense_forward_f64)(double* y, const double* x, const double* w, const double* b, int64_t m, int64_t k,
                             int64_t n, int act);
    /* dw (k, n), db (n) (or NULL), dx (m, k) (or NULL) from x (m, k), w (k, n), the activated output
     * y (m, n) and dy (m, n). Outputs overlap neither each other nor any input. */
    int (*dense_backward_f32)(float* dx, float* dw, float* db, const float* x, const float* w, const float* y,
                              const float* dy, int64_t m, int64_t k, int64_t n, int act);
    int (*dense_backward_f64)(double* dx, double* dw, double* db, const double* x, const double* w,
                              const double* y, const double* dy, int64_t m, int64_t k, int64_t n, int act);
    /* y (rows, cols) = act(z (rows, cols)); y may be z (in place) but not overlap it otherwise. */
    int (*activation_forward_f32)(float* y, const float* z, int64_t rows, int64_t cols, int act);
    int (*activation_forward_f64)(double* y, const double* z, int64_t rows, int64_t cols, int act);
    /* dz (rows, cols) from the activated output y (rows, cols) and dy (rows, cols); dz may be y or dy. */
    int (*activation_backward_f32)(float* dz, const float* y, const float* dy, int64_t rows, int64_t cols,
                                   int act);
    int (*activation_backward_f64)(double* dz, const double* y, const double* dy, int64_t rows, int64_t cols,
                                   int act);
    /* *loss = mean over rows of the cross-entropy of softmax(logits (rows, cols)) against labels (rows)
     * in [0, cols) or, when labels is NULL, target rows (rows, cols); grad (rows, cols) = dloss/dlogits.
     * Exactly one of labels and target; label_smoothing in [0, 1]. */
    int (*softmax_cross_entropy_f32)(double* loss, float* grad, const float* logits, const int64_t* labels,
                                     const float* target, int64_t rows, int64_t cols, double label_smoothing);
    int (*softmax_cross_entropy_f64)(double* loss, double* grad, const double* logits, const int64_t* labels,
                                     const double* target, int64_t rows, int64_t cols, double label_smoothing);
    /* *loss = mean over n elements of pred (n) against target (n); grad (n) = dloss/dpred. */
    int (*mse_f32)(double* loss, float* grad, const float* pred, const float* target, int64_t n);
    int (*mse_f64)(double* loss, double* grad, const double* pred, const double* target, int64_t n);
    int (*mae_f32)(double* loss, float* grad, const float* pred, const float* target, int64_t n);
    int (*mae_f64)(double* loss, double* grad, const double* pred, const double* target, int64_t n);
    /* Binary cross-entropy of probabilities prob (n) (clipped to [1e-7, 1 - 1e-7]); label_smoothing in [0, 1]. */
    int (*binary_cross_entropy_f32)(double* loss, float* grad, const float* prob, const float* target, int64_t n,
                                    double label_smoothing);
    int (*binary_cross_entropy_f64)(double* loss, double* grad, const double* prob, const double* target,
                                    int64_t n, double label_smoothing);
    /* y (n) = x (n) / (1 - rate) where kept, else 0; mask (n) = 1 where kept: nnfast.ops.dropout_forward's
     * stream. rate in [0, 1); y may be x; mask overlaps neither. */
    int (*dropout_forward_f32)(float* y, uint8_t* mask, const float* x, int64_t n, double rate, uint64_t seed);
    int (*dropout_forward_f64)(double* y, uint8_t* mask, const double* x, int64_t n, double rate, uint64_t seed);
    /* dx (n) = dy (n) / (1 - rate) where mask (n), else 0; dx may be dy. */
    int (*dropout_backward_f32)(float* dx, const float* dy, const uint8_t* mask, int64_t n, double rate);
    int (*dropout_backward_f64)(double* dx, const double* dy, const uint8_t* mask, int64_t n, double rate);

    /* Fused multi-tensor optimizer steps over tensors[0 .. count), in the convention s->convention,
     * with the rules and ranges of nnfast.ops's update functions of the same names. */
    nnfast_update_f32 sgd_update_f32;
    nnfast_update_f64 sgd_update_f64;
    nnfast_update_f32 adagrad_update_f32;
    nnfast_update_f64 adagrad_update_f64;
    nnfast_update_f32 rmsprop_update_f32;
    nnfast_update_f64 rmsprop_update_f64;
    nnfast_update_f32 adam_update_f32;
    nnfast_update_f64 adam_update_f64;
    nnfast_update_f32 adamax_update_f32;
    nnfast_update_f64 adamax_update_f64;
    nnfast_update_f32 nadam_update_f32;
    nnfast_update_f64 nadam_update_f64;
    nnfast_update_f32 radam_update_f32;
    nnfast_update_f64 radam_update_f64;
    nnfast_update_f32 adadelta_update_f32;
    nnfast_update_f64 adadelta_update_f64;
    nnfast_update_f32 lion_update_f32;
    nnfast_update_f64 lion_update_f64;
    nnfast_update_f32 ftrl_update_f32;
    nnfast_update_f64 ftrl_update_f64;

    /* Version 2. dw (rows, cols) = 0, then dw[indices[i], :] += dy[i, :] for i = 0 .. n - 1 in turn
     * (dy (n, cols), indices (n) in [0, rows)): nnfast.ops.embedding_backward, the Embedding layer's
     * gradient. dw overlaps neither dy nor indices. */
    int (*embedding_backward_f32)(float* dw, const float* dy, const int64_t* indices, int64_t n, int64_t rows,
                                  int64_t cols);
    int (*embedding_backward_f64)(double* dw, const double* dy, const int64_t* indices, int64_t n, int64_t rows,
                                  int64_t cols);
    /* New entries go here, and only here. */
} nnfast_capi;

/* Whether a table (from the capsule's pointer) serves an extension built against this header. */
static inline int nnfast_capi_compatible(const nnfast_capi* api) {
    return api != NULL && api->version >= NNFAST_CAPI_VERSION && api->size >= sizeof(nnfast_capi);
}

#ifdef Py_PYTHON_H
/* The table from nnfast._core._C_API, checked with nnfast_capi_compatible; NULL with an ImportError
 * set when nnfast is missing, has no C API or an older one. Needs the GIL. */
static inline const nnfast_capi* nnfast_capi_load(void) {
    PyObject* core = PyImport_ImportModule("nnfast._core");
    if (core == NULL) {
#if PY_VERSION_HEX >= 0x030C0000
        PyObject* cause = PyErr_GetRaisedException();
#else
        PyObject *type, *cause, *tb;
        PyErr_Fetch(&type, &cause, &tb);
        PyErr_NormalizeException(&type, &cause, &tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
#endif
        PyErr_Format(PyExc_ImportError,
                     "nnfast's C API needs nnfast installed in this environment: importing nnfast._core failed (%S)",
                     cause != NULL ? cause : Py_None);
        Py_XDECREF(cause);
        return NULL;
    }
    PyObject* capsule = PyObject_GetAttrString(core, "_C_API");
    Py_DECREF(core);
    if (capsule == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_ImportError,
                     "the installed nnfast has no C API (nnfast._core._C_API); this extension needs C API "
                     "version %d or newer: upgrade nnfast", NNFAST_CAPI_VERSION);
        return NULL;
    }
    const nnfast_capi* api = (const nnfast_capi*)PyCapsule_GetPointer(capsule, NNFAST_CAPI_CAPSULE);
    Py_DECREF(capsule);
    if (api == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ImportError, "nnfast._core._C_API is not an " NNFAST_CAPI_CAPSULE " capsule");
        return NULL;
    }
    if (!nnfast_capi_compatible(api)) {
        PyErr_Format(PyExc_ImportError,
                     "the installed nnfast's C API is version %u (a table of %u bytes), older than version %d "
                     "(%u bytes) this extension was built against: upgrade nnfast",
                     (unsigned)api->version, (unsigned)api->size, NNFAST_CAPI_VERSION,
                     (unsigned)sizeof(nnfast_capi));
        return NULL;
    }
    return api;
}

/* nnfast_capi_load() once per translation unit: later calls return the same table. */
static const nnfast_capi* nnfast_capi_table = NULL;
static inline const nnfast_capi* nnfast_import(void) {
    if (nnfast_capi_table == NULL) nnfast_capi_table = nnfast_capi_load();
    return nnfast_capi_table;
}
#endif /* Py_PYTHON_H */

#ifdef __cplusplus
}
#endif

#endif /* NNFAST_NNFAST_H */
