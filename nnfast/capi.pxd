# cython: language_level=3
# nnfast's C API for Cython: `from nnfast cimport capi`, then `api = capi.import_nnfast()` once (with
# the GIL) and call api.dense_forward_f32(...) and the rest, nogil. The declarations mirror
# nnfast/nnfast.h (in nnfast.get_include(), which the extension needs on its include path);
# docs/capi.md has the guide. Every function returns a status: capi.NNFAST_OK or an error code after
# which no output was touched (api.status_message(status), api.last_error() say what went wrong).
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t


cdef extern from "nnfast/nnfast.h" nogil:
    enum:
        NNFAST_CAPI_VERSION
        NNFAST_OK
        NNFAST_ERR_NULL_POINTER
        NNFAST_ERR_SIZE
        NNFAST_ERR_ALIASING
        NNFAST_ERR_ACTIVATION
        NNFAST_ERR_LABEL
        NNFAST_ERR_VALUE
        NNFAST_ERR_VERSION
        NNFAST_ERR_INTERNAL
        NNFAST_ERR_INDEX
        NNFAST_LINEAR
        NNFAST_RELU
        NNFAST_LEAKY_RELU
        NNFAST_SIGMOID
        NNFAST_TANH
        NNFAST_SOFTMAX
        NNFAST_KERAS
        NNFAST_TORCH
        NNFAST_DLFS

    ctypedef struct nnfast_tensor_f32:
        float* param
        const float* grad
        float* state[3]
        int64_t size

    ctypedef struct nnfast_tensor_f64:
        double* param
        const double* grad
        double* state[3]
        int64_t size

    ctypedef struct nnfast_optim_step:
        uint32_t size
        int32_t convention
        int64_t step
        double learning_rate, weight_decay, epsilon
        double momentum, dampening, lr_decay, rho, beta_1, beta_2
        double momentum_decay
        double lr_power, l1, l2, l2_shrinkage, beta
        int32_t nesterov, centered, amsgrad, decoupled_weight_decay, maximize

    void nnfast_optim_step_init(nnfast_optim_step* s, int convention)

    ctypedef int (*nnfast_update_f32)(const nnfast_tensor_f32* tensors, int64_t count,
                                      const nnfast_optim_step* s) noexcept nogil
    ctypedef int (*nnfast_update_f64)(const nnfast_tensor_f64* tensors, int64_t count,
                                      const nnfast_optim_step* s) noexcept nogil

    ctypedef struct nnfast_capi:
        uint32_t version
        uint32_t size
        const char* (*status_message)(int status) noexcept nogil
        const char* (*last_error)() noexcept nogil
        int (*set_num_threads)(int n) noexcept nogil
        int (*get_num_threads)(int* n) noexcept nogil
        int (*gemm_f32)(float* c, int64_t ldc, const float* a, int64_t lda, const float* b, int64_t ldb,
                        const float* bias, int64_t m, int64_t n, int64_t k, int trans_a, int trans_b,
                        int act) noexcept nogil
        int (*gemm_f64)(double* c, int64_t ldc, const double* a, int64_t lda, const double* b, int64_t ldb,
                        const double* bias, int64_t m, int64_t n, int64_t k, int trans_a, int trans_b,
                        int act) noexcept nogil
        int (*dense_forward_f32)(float* y, const float* x, const float* w, const float* b, int64_t m,
                                 int64_t k, int64_t n, int act) noexcept nogil
        int (*dense_forward_f64)(double* y, const double* x, const double* w, const double* b, int64_t m,
                                 int64_t k, int64_t n, int act) noexcept nogil
        int (*dense_backward_f32)(float* dx, float* dw, float* db, const float* x, const float* w,
                                  const float* y, const float* dy, int64_t m, int64_t k, int64_t n,
                                  int act) noexcept nogil
        int (*dense_backward_f64)(double* dx, double* dw, double* db, const double* x, const double* w,
                                  const double* y, const double* dy, int64_t m, int64_t k, int64_t n,
                                  int act) noexcept nogil
        int (*activation_forward_f32)(float* y, const float* z, int64_t rows, int64_t cols,
                                      int act) noexcept nogil
        int (*activation_forward_f64)(double* y, const double* z, int64_t rows, int64_t cols,
                                      int act) noexcept nogil
        int (*activation_backward_f32)(float* dz, const float* y, const float* dy, int64_t rows, int64_t cols,
                                       int act) noexcept nogil
        int (*activation_backward_f64)(double* dz, const double* y, const double* dy, int64_t rows,
                                       int64_t cols, int act) noexcept nogil
        int (*softmax_cross_entropy_f32)(double* loss, float* grad, const float* logits, const int64_t* labels,
                                         const float* target, int64_t rows, int64_t cols,
                                         double label_smoothing) noexcept nogil
        int (*softmax_cross_entropy_f64)(double* loss, double* grad, const double* logits,
                                         const int64_t* labels, const double* target, int64_t rows,
                                         int64_t cols, double label_smoothing) noexcept nogil
        int (*mse_f32)(double* loss, float* grad, const float* pred, const float* target,
                       int64_t n) noexcept nogil
        int (*mse_f64)(double* loss, double* grad, const double* pred, const double* target,
                       int64_t n) noexcept nogil
        int (*mae_f32)(double* loss, float* grad, const float* pred, const float* target,
                       int64_t n) noexcept nogil
        int (*mae_f64)(double* loss, double* grad, const double* pred, const double* target,
                       int64_t n) noexcept nogil
        int (*binary_cross_entropy_f32)(double* loss, float* grad, const float* prob, const float* target,
                                        int64_t n, double label_smoothing) noexcept nogil
        int (*binary_cross_entropy_f64)(double* loss, double* grad, const double* prob, const double* target,
                                        int64_t n, double label_smoothing) noexcept nogil
        int (*dropout_forward_f32)(float* y, uint8_t* mask, const float* x, int64_t n, double rate,
                                   uint64_t seed) noexcept nogil
        int (*dropout_forward_f64)(double* y, uint8_t* mask, const double* x, int64_t n, double rate,
                                   uint64_t seed) noexcept nogil
        int (*dropout_backward_f32)(float* dx, const float* dy, const uint8_t* mask, int64_t n,
                                    double rate) noexcept nogil
        int (*dropout_backward_f64)(double* dx, const double* dy, const uint8_t* mask, int64_t n,
                                    double rate) noexcept nogil
        nnfast_update_f32 sgd_update_f32
        nnfast_update_f64 sgd_update_f64
        nnfast_update_f32 adagrad_update_f32
        nnfast_update_f64 adagrad_update_f64
        nnfast_update_f32 rmsprop_update_f32
        nnfast_update_f64 rmsprop_update_f64
        nnfast_update_f32 adam_update_f32
        nnfast_update_f64 adam_update_f64
        nnfast_update_f32 adamax_update_f32
        nnfast_update_f64 adamax_update_f64
        nnfast_update_f32 nadam_update_f32
        nnfast_update_f64 nadam_update_f64
        nnfast_update_f32 radam_update_f32
        nnfast_update_f64 radam_update_f64
        nnfast_update_f32 adadelta_update_f32
        nnfast_update_f64 adadelta_update_f64
        nnfast_update_f32 lion_update_f32
        nnfast_update_f64 lion_update_f64
        nnfast_update_f32 ftrl_update_f32
        nnfast_update_f64 ftrl_update_f64
        int (*embedding_backward_f32)(float* dw, const float* dy, const int64_t* indices, int64_t n, int64_t rows,
                                      int64_t cols)
        int (*embedding_backward_f64)(double* dw, const double* dy, const int64_t* indices, int64_t n, int64_t rows,
                                      int64_t cols)

    int nnfast_capi_compatible(const nnfast_capi* api)


cdef extern from "nnfast/nnfast.h":
    # With the GIL: NULL with an ImportError set when nnfast is missing, has no C API or an older one.
    const nnfast_capi* nnfast_capi_load() except NULL
    const nnfast_capi* nnfast_import() except NULL


cdef inline const nnfast_capi* import_nnfast() except NULL:
    """The C API table of the installed nnfast, loaded once per module; ImportError when nnfast is
    missing, has no C API, or one older than the header this module was compiled against."""
    return nnfast_import()
