# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""A 2-layer MLP trained through nnfast's C API only: Dense(relu) -> Dense(linear) -> softmax
cross-entropy of integer labels -> Adam (Keras convention), every batch of an epoch in one nogil
loop. The weights are NumPy float32 arrays the caller owns; training updates them in place."""
from time import perf_counter_ns

import numpy as np

from libc.stdint cimport int64_t
from nnfast cimport capi

cdef const capi.nnfast_capi* api = capi.import_nnfast()


cdef inline float* at(float[:, ::1] a) noexcept nogil:
    return &a[0, 0] if a.shape[0] > 0 and a.shape[1] > 0 else NULL


cdef inline float* vec(float[::1] a) noexcept nogil:
    return &a[0] if a.shape[0] > 0 else NULL


def _f32(name, a, shape):
    if not isinstance(a, np.ndarray) or a.dtype != np.float32 or a.shape != shape or not a.flags.c_contiguous:
        raise ValueError(f"{name} must be a C-contiguous float32 array of shape {shape}")
    return a


cdef class MLP:
    """MLP(w1 (D, H), b1 (H,), w2 (H, C), b2 (C,), learning_rate, beta_1, beta_2, epsilon): trains the
    given float32 arrays in place with Adam; `iterations` counts the steps taken."""
    cdef readonly object w1, b1, w2, b2, moments
    cdef readonly int64_t inputs, hidden, classes, iterations
    cdef float[:, ::1] W1, W2, dW1, dW2
    cdef float[::1] B1, B2, dB1, dB2
    cdef capi.nnfast_tensor_f32 tensors[4]
    cdef capi.nnfast_optim_step step

    def __init__(self, w1, b1, w2, b2, double learning_rate=1e-3, double beta_1=0.9, double beta_2=0.999,
                 double epsilon=1e-7):
        self.inputs, self.hidden = np.shape(w1)
        self.classes = np.shape(w2)[1]
        self.w1 = _f32("w1", w1, (self.inputs, self.hidden))
        self.b1 = _f32("b1", b1, (self.hidden,))
        self.w2 = _f32("w2", w2, (self.hidden, self.classes))
        self.b2 = _f32("b2", b2, (self.classes,))
        self.W1 = self.w1
        self.B1 = self.b1
        self.W2 = self.w2
        self.B2 = self.b2
        grads = [np.zeros_like(a) for a in (w1, b1, w2, b2)]
        self.dW1 = grads[0]
        self.dB1 = grads[1]
        self.dW2 = grads[2]
        self.dB2 = grads[3]
        # Adam's moments (m, v) per parameter, as nnfast.ops.adam_update's exp_avgs and exp_avg_sqs
        self.moments = [(np.zeros_like(a), np.zeros_like(a)) for a in (w1, b1, w2, b2)]
        cdef float[::1] p, g, m, v
        for i, (param, grad) in enumerate(zip((w1, b1, w2, b2), grads)):
            p, g = param.reshape(-1), grad.reshape(-1)
            m, v = self.moments[i][0].reshape(-1), self.moments[i][1].reshape(-1)
            self.tensors[i].param = vec(p)
            self.tensors[i].grad = vec(g)
            self.tensors[i].state[0] = vec(m)
            self.tensors[i].state[1] = vec(v)
            self.tensors[i].state[2] = NULL
            self.tensors[i].size = p.shape[0]
        capi.nnfast_optim_step_init(&self.step, capi.NNFAST_KERAS)
        self.step.learning_rate = learning_rate
        self.step.beta_1 = beta_1
        self.step.beta_2 = beta_2
        self.step.epsilon = epsilon
        self.iterations = 0

    def fit_epoch(self, float[:, ::1] x, const int64_t[::1] y, int64_t batch_size):
        """One pass over (x, y) in order, in batches of batch_size (the last one may be smaller), with
        the GIL released for the whole epoch; returns the mean of the batches' losses weighted by
        their sizes."""
        if x.shape[1] != self.inputs or y.shape[0] != x.shape[0] or batch_size < 1:
            raise ValueError("x must be (N, inputs), y (N,) and batch_size >= 1")
        cdef int64_t rows = min(batch_size, x.shape[0])
        cdef float[:, ::1] h = np.empty((rows, self.hidden), np.float32)
        cdef float[:, ::1] dh = np.empty((rows, self.hidden), np.float32)
        cdef float[:, ::1] z = np.empty((rows, self.classes), np.float32)
        cdef float[:, ::1] dz = np.empty((rows, self.classes), np.float32)
        cdef double total = 0.0
        cdef int status
        with nogil:
            status = self._epoch(x, y, batch_size, h, dh, z, dz, &total)
        if status != capi.NNFAST_OK:
            raise RuntimeError(api.last_error().decode())
        return total / x.shape[0] if x.shape[0] else 0.0

    cdef int _epoch(self, float[:, ::1] x, const int64_t[::1] y, int64_t batch_size, float[:, ::1] h,
                    float[:, ::1] dh, float[:, ::1] z, float[:, ::1] dz, double* total) noexcept nogil:
        cdef int64_t n = x.shape[0], start = 0, m
        cdef int64_t D = self.inputs, H = self.hidden, C = self.classes
        cdef double loss
        cdef int s
        cdef const float* xb
        while start < n:
            m = min(batch_size, n - start)
            xb = &x[start, 0]
            s = api.dense_forward_f32(at(h), xb, at(self.W1), vec(self.B1), m, D, H, capi.NNFAST_RELU)
            if s == capi.NNFAST_OK:
                s = api.dense_forward_f32(at(z), at(h), at(self.W2), vec(self.B2), m, H, C, capi.NNFAST_LINEAR)
            if s == capi.NNFAST_OK:
                s = api.softmax_cross_entropy_f32(&loss, at(dz), at(z), &y[start], NULL, m, C, 0.0)
            if s == capi.NNFAST_OK:
                s = api.dense_backward_f32(at(dh), at(self.dW2), vec(self.dB2), at(h), at(self.W2), at(z), at(dz),
                                           m, H, C, capi.NNFAST_LINEAR)
            if s == capi.NNFAST_OK:
                s = api.dense_backward_f32(NULL, at(self.dW1), vec(self.dB1), xb, at(self.W1), at(h), at(dh),
                                           m, D, H, capi.NNFAST_RELU)
            if s == capi.NNFAST_OK:
                self.step.step = self.iterations + 1
                s = api.adam_update_f32(self.tensors, 4, &self.step)
            if s != capi.NNFAST_OK:
                return s
            self.iterations += 1
            total[0] += loss * m
            start += m
        return capi.NNFAST_OK


def call_cost_dense_forward(float[:, ::1] y, float[:, ::1] x, float[:, ::1] w, float[::1] b, int64_t iters):
    """ns per call of dense_forward_f32 (linear) through the C API, in a nogil loop of iters calls."""
    cdef int64_t i, m = x.shape[0], k = x.shape[1], n = w.shape[1]
    cdef int s = capi.NNFAST_OK
    t0 = perf_counter_ns()
    with nogil:
        for i in range(iters):
            s |= api.dense_forward_f32(&y[0, 0], &x[0, 0], &w[0, 0], &b[0], m, k, n, capi.NNFAST_LINEAR)
    t1 = perf_counter_ns()
    if s != capi.NNFAST_OK:
        raise RuntimeError(api.last_error().decode())
    return (t1 - t0) / iters


def call_cost_adam(float[::1] param, float[::1] grad, float[::1] m, float[::1] v, int64_t iters):
    """ns per call of adam_update_f32 (one tensor, Keras convention) through the C API, nogil."""
    cdef capi.nnfast_tensor_f32 t
    cdef capi.nnfast_optim_step st
    cdef int64_t i
    cdef int s = capi.NNFAST_OK
    t.param, t.grad, t.state[0], t.state[1], t.state[2], t.size = &param[0], &grad[0], &m[0], &v[0], NULL, param.shape[0]
    capi.nnfast_optim_step_init(&st, capi.NNFAST_KERAS)
    st.learning_rate, st.beta_1, st.beta_2, st.epsilon = 1e-3, 0.9, 0.999, 1e-7
    t0 = perf_counter_ns()
    with nogil:
        for i in range(iters):
            st.step = i + 1
            s |= api.adam_update_f32(&t, 1, &st)
    t1 = perf_counter_ns()
    if s != capi.NNFAST_OK:
        raise RuntimeError(api.last_error().decode())
    return (t1 - t0) / iters
