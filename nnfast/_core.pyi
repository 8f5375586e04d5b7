# Type stub of nnfast._core, the C++ extension (csrc/bindings/). Use nnfast.ops, which wraps these
# with keyword signatures and docstrings. Parameters before a "/" are positional only (keyword
# matching costs about a microsecond a call in pybind11); their names here are for reading.
# Arrays are float32 or float64 numpy arrays, C-contiguous and aligned; outputs ("out", "*_out")
# may be None (a new array) or an array checked against the expected shape and dtype.
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from typing_extensions import TypeAlias

Array: TypeAlias = NDArray[np.floating[Any]]
Arrays: TypeAlias = Array | Sequence[Array]  # one array, or a list/tuple of them

__version__: str

# Names of the activations the kernels know, in their enum order (csrc/common/types.h).
ACTIVATIONS: tuple[str, ...]

# Facts about this build: version, compiler, build_type, isa_flags, processor, isa_built,
# isa_supported, isa (the level in use; NNFAST_ISA may lower it), isa_features, openmp,
# max_threads, min_work_per_thread, caches (l1d, l1d_ways, l2, l3, l3_per_core in bytes and their
# source), blocking_override (NNFAST_BLOCKING or None) and gemm_blocking (per dtype: mr, nr, kc, mc, nc).
def build_info() -> dict[str, Any]: ...

# The C API (docs/capi.md): a capsule named "nnfast._core._C_API" holding the nnfast_capi table of
# nnfast/include/nnfast/nnfast.h, and that table's version.
_C_API: Any
C_API_VERSION: int
# (direct, moded, capi): ns per call, one value per round, of the float32 kernel which
# ("dense_forward": 32 x 128 x 10; "adam": 1000 parameters) from C++ through the kernel table, the
# same with the floating-point mode set and restored per call, and through the C API table, the
# three alternated within each round.
def capi_call_cost(which: str, iters: int = 20000, rounds: int = 7) -> tuple[list[float], list[float], list[float]]: ...

# Threads the kernels may use (1 to 4096); results do not depend on it.
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
# Teams of threads led so far, by native training steps (one parallel region for all of a step's
# parts, led only when a part of it splits over threads) and by team_handoff_seconds' probe.
def teams_led() -> int: ...
def idle_units_run() -> int: ...
def sparse_products_run() -> int: ...
def full_groups_run() -> int: ...
def set_flush_denormal(on: bool) -> None: ...
def get_flush_denormal() -> bool: ...
def fp_mode() -> int: ...  # the calling thread's MXCSR (x86) or FPCR (AArch64); 0 elsewhere

# Whether no element of a is NaN or +-Inf.
def all_finite(a: Array) -> bool: ...

# y = act(z) element-wise (softmax: over the last axis); out may be z (in place).
def activation_forward(z: Array, activation: str | None, out: Array | None = None) -> Array: ...

# dz = dL/dz from the activated output y and dy; out may be y or dy (in place).
def activation_backward(y: Array, dy: Array, activation: str | None, out: Array | None = None) -> Array: ...

# op(a) @ op(b), op a transpose when trans_*; out (m, n) must not overlap a or b.
def gemm(a: Array, b: Array, trans_a: bool, trans_b: bool, out: Array | None, /) -> Array: ...

# y (m, n) = act(x (m, k) @ w (k, n) + b (n)); b may be None.
def dense_forward(x: Array, w: Array, b: Array | None, activation: str | None, out: Array | None, /) -> Array: ...

# (dx (m, k) or None, dw (k, n), db (n) or None) from x, w, the output y (m, n) and dy (m, n).
def dense_backward(
    x: Array,
    w: Array,
    y: Array,
    dy: Array,
    activation: str | None,
    need_dx: bool,
    need_db: bool,
    dx_out: Array | None,
    dw_out: Array | None,
    db_out: Array | None,
    /,
) -> tuple[Array | None, Array, Array | None]: ...

# Losses: (mean loss, gradient with respect to the prediction, of its shape and dtype). Point-wise
# losses take arrays of any shape (the mean over all elements; mape 100 times it).
def mse(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def mae(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def binary_cross_entropy(
    prob: Array, target: Array, out: Array | None, label_smoothing: float = 0.0
) -> tuple[float, Array]: ...
def sigmoid_cross_entropy(
    logits: Array, target: Array, out: Array | None, label_smoothing: float = 0.0
) -> tuple[float, Array]: ...
def mape(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def msle(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def huber(pred: Array, target: Array, out: Array | None, delta: float = 1.0) -> tuple[float, Array]: ...
def log_cosh(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def hinge(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def squared_hinge(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def poisson(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...

# Row-wise losses of (B, C) arrays: the mean over rows of one value per row. The cross-entropies
# take integer class indices (B,) in [0, C) or float rows (B, C) as labels.
def kl_divergence(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def categorical_hinge(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def cosine_similarity(pred: Array, target: Array, out: Array | None, /) -> tuple[float, Array]: ...
def categorical_cross_entropy(
    prob: Array, labels: NDArray[Any], out: Array | None, label_smoothing: float = 0.0
) -> tuple[float, Array]: ...
def softmax_cross_entropy(
    logits: Array, labels: NDArray[Any], out: Array | None, label_smoothing: float = 0.0
) -> tuple[float, Array]: ...

# Keras's sample-weighted loss sum_i weights[i] * loss_i / rows of pred (rows, cols) against targets
# (int64 labels (rows,) for the cross-entropies, else rows of pred's shape), weights (rows,) of
# pred's dtype; loss is the name of one of the loss functions above, param its delta or label
# smoothing; loss_i the mean of row i's point-wise terms or its row-wise value. What
# DenseStackStep reports with weights.
def weighted_loss(pred: Array, targets: NDArray[Any], weights: Array, loss: str, param: float = 0.0) -> float: ...

# (y, mask): inverted dropout; mask is uint8 (1 = kept), the same for any thread count.
def dropout_forward(
    x: Array, rate: float, seed: int, out: Array | None, mask_out: NDArray[np.uint8] | None, /
) -> tuple[Array, NDArray[np.uint8]]: ...

# dx = dy / (1 - rate) where mask is 1, else 0.
def dropout_backward(dy: Array, mask: NDArray[np.uint8], rate: float, out: Array | None, /) -> Array: ...
def embedding_backward(dy: Array, indices: NDArray[np.integer], rows: int, out: Array | None, /) -> Array: ...

# Normalization of x (batch, features): batch norm per feature (mean, inv_std (features,)), layer
# norm per row (mean, inv_std (batch,)). Forward returns (y, mean, inv_std); in training, batch norm
# updates moving_mean and moving_var in place. gamma, beta may be None. Backward returns
# (dx, dgamma or None, dbeta or None). Written arrays must not overlap any other of the call.
def batch_norm_forward(
    x: Array,
    gamma: Array | None,
    beta: Array | None,
    moving_mean: Array,
    moving_var: Array,
    training: bool,
    momentum: float,
    epsilon: float,
    out: Array | None,
    mean_out: Array | None,
    inv_std_out: Array | None,
    /,
) -> tuple[Array, Array, Array]: ...
def batch_norm_backward(
    x: Array,
    gamma: Array | None,
    mean: Array,
    inv_std: Array,
    dy: Array,
    training: bool,
    need_dgamma: bool,
    need_dbeta: bool,
    dx_out: Array | None,
    dgamma_out: Array | None,
    dbeta_out: Array | None,
    /,
) -> tuple[Array, Array | None, Array | None]: ...
def layer_norm_forward(
    x: Array,
    gamma: Array | None,
    beta: Array | None,
    epsilon: float,
    out: Array | None,
    mean_out: Array | None,
    inv_std_out: Array | None,
    /,
) -> tuple[Array, Array, Array]: ...
def layer_norm_backward(
    x: Array,
    gamma: Array | None,
    mean: Array,
    inv_std: Array,
    dy: Array,
    need_dgamma: bool,
    need_dbeta: bool,
    dx_out: Array | None,
    dgamma_out: Array | None,
    dbeta_out: Array | None,
    /,
) -> tuple[Array, Array | None, Array | None]: ...

# Keras's Normalization layer: y = (x - mean) / max(sqrt(variance), 1e-7) (invert: mean + x * that)
# of x (batch, features) with mean, variance (features,); backward dx = dy / that (invert: * that).
def normalization_forward(x: Array, mean: Array, variance: Array, invert: bool, out: Array | None, /) -> Array: ...
def normalization_backward(dy: Array, variance: Array, invert: bool, out: Array | None, /) -> Array: ...

# Fused multi-tensor optimizer steps, in place (nnfast.ops has their keyword signatures).
# convention: "keras" or "torch" ("dlfs" too for SGD). State lists a setting does not use may be None.
def sgd_update(
    params: Arrays,
    grads: Arrays,
    momentum_buffers: Arrays | None,
    step: int,
    learning_rate: float,
    momentum: float,
    nesterov: bool,
    dampening: float,
    weight_decay: float,
    maximize: bool,
    convention: str,
    /,
) -> None: ...
def adagrad_update(
    params: Arrays,
    grads: Arrays,
    accumulators: Arrays,
    step: int,
    learning_rate: float,
    epsilon: float,
    lr_decay: float,
    weight_decay: float,
    maximize: bool,
    convention: str,
    /,
) -> None: ...
def rmsprop_update(
    params: Arrays,
    grads: Arrays,
    sq_avgs: Arrays,
    grad_avgs: Arrays | None,
    momentum_buffers: Arrays | None,
    learning_rate: float,
    rho: float,
    epsilon: float,
    momentum: float,
    centered: bool,
    weight_decay: float,
    maximize: bool,
    convention: str,
    /,
) -> None: ...
def adam_update(
    params: Arrays,
    grads: Arrays,
    exp_avgs: Arrays,
    exp_avg_sqs: Arrays,
    max_exp_avg_sqs: Arrays | None,
    step: int,
    learning_rate: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    amsgrad: bool,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
    convention: str,
    /,
) -> None: ...
def adamax_update(
    params: Arrays,
    grads: Arrays,
    exp_avgs: Arrays,
    exp_infs: Arrays,
    step: int,
    learning_rate: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    weight_decay: float,
    maximize: bool,
    convention: str,
    /,
) -> None: ...
def nadam_update(
    params: Arrays,
    grads: Arrays,
    exp_avgs: Arrays,
    exp_avg_sqs: Arrays,
    step: int,
    learning_rate: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    momentum_decay: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
    convention: str,
    /,
) -> None: ...
def radam_update(
    params: Arrays,
    grads: Arrays,
    exp_avgs: Arrays,
    exp_avg_sqs: Arrays,
    step: int,
    learning_rate: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
    convention: str,
    /,
) -> None: ...
def adadelta_update(
    params: Arrays,
    grads: Arrays,
    square_avgs: Arrays,
    acc_deltas: Arrays,
    learning_rate: float,
    rho: float,
    epsilon: float,
    weight_decay: float,
    maximize: bool,
    convention: str,
    /,
) -> None: ...
def lion_update(
    params: Arrays,
    grads: Arrays,
    exp_avgs: Arrays,
    learning_rate: float,
    beta_1: float,
    beta_2: float,
    weight_decay: float,
    convention: str,
    /,
) -> None: ...
def ftrl_update(
    params: Arrays,
    grads: Arrays,
    accumulators: Arrays,
    linears: Arrays,
    learning_rate: float,
    learning_rate_power: float,
    l1_regularization_strength: float,
    l2_regularization_strength: float,
    l2_shrinkage_regularization_strength: float,
    beta: float,
    weight_decay: float,
    convention: str,
    /,
) -> None: ...

# The learning rates of the steps after first, first + 1, ... steps (0-based iterations), as the
# native multi-step runs compute them: schedule is a number (constant) or (kind, params) as
# nnfast.optimizers.schedules' native_parameters() gives it.
def learning_rates(schedule: float | tuple[str, Sequence[float]], first: int, count: int) -> NDArray[np.float64]: ...
# The update function `kernel` with its constants, state lists and learning rate checked once:
# call(params, grads, step) runs kernel(params, grads, *state, step=step, learning_rate=..., **hyperparameters).
def prepare_update(kernel: str, hyperparameters: dict[str, object], state: tuple[Arrays | None, ...],
                   learning_rate: float) -> Callable[[Arrays, Arrays, int], None]: ...

# Limit probes for the benchmark report (float32 only).
# rw[k] += c * ro for 1 to 4 distinct arrays rw of ro's size, in one pass (a memory stream).
def stream_inplace(rw: Sequence[NDArray[np.float32]], ro: NDArray[np.float32], c: float = 0.0) -> None: ...

# iters rounds of 128 float multiply-adds on each of `threads` threads (FLOPs = 256*iters*threads).
def fma_loop(iters: int, threads: int) -> float: ...
def team_handoff_seconds(jobs: int = 2000, repeats: int = 3) -> float: ...

# One native call per training step of a stack of Dense layers (forward, loss, backward and the
# optimizer update), for nnfast.models.
class DenseStackStep:
    # layers: per layer, a record read by attribute name (nnfast.models.native_step.NativeLayerPlan):
    # kind (dense, activation, dropout, batch_norm, layer_norm or normalization; dense when absent), output
    # (batch, out), input_grad (batch, in) or None (no input gradient: backward stops at that
    # layer), and the fields of its kind - dense: kernel (in, out), bias (out,) or None,
    # kernel_grad, bias_grad, activation (not softmax), l2 (optional, >= 0: the loss gains
    # l2/2 * sum(kernel^2), kernel_grad gains l2 * kernel); activation: activation; dropout: rate in
    # (0, 1), seed (uint64), calls (uint64 (1,), the forward count each native forward uses and
    # advances), mask (batch, out) uint8; batch_norm: gamma, beta, gamma_grad, beta_grad (or None),
    # mean, inv_std (out,), moving_mean, moving_variance, training, momentum, epsilon; layer_norm:
    # gamma, beta, gamma_grad, beta_grad, mean, inv_std (batch,), epsilon; normalization:
    # moving_mean, moving_variance (out,) (the layer's mean and variance), invert. Read once here. dloss
    # (batch, outputs): the loss gradient buffer, whose dtype is the step's. loss: the name of a
    # loss function above, loss_param its delta or label smoothing. fn: any nnfast.ops optimizer
    # update (sgd_update, ..., ftrl_update), with kwargs as nnfast.ops takes them; params, grads and
    # states (up to 3 lists, None where unused) as fn takes them. Every buffer is checked here.
    def __init__(
        self,
        layers: list[Any],
        dloss: Array,
        loss: str,
        fn: str,
        kwargs: dict[str, Any],
        params: Arrays,
        grads: Arrays,
        states: tuple[Arrays | None, ...],
        loss_param: float = 0.0,
    ) -> None: ...
    # One step on x (batch, in) and targets (labels (batch,) int64 for the cross-entropies, or
    # rows (batch, outputs)): the loss; a non-finite loss updates nothing. check_finite: reject
    # NaN/Inf in x and the target rows first. weights (batch,) of the step's dtype: the
    # sample-weighted loss (as weighted_loss), each sample's loss gradient scaled by its weight.
    def run(
        self,
        x: Array,
        targets: NDArray[Any],
        learning_rate: float,
        step: int,
        check_finite: bool = False,
        weights: Array | None = None,
    ) -> float: ...
    # count steps over whole batches order[(first + i) * batch ...] of x and its targets (and of
    # weights, one per sample, when given), gathered natively: losses[i] (float64) per step and,
    # unless correct is None, correct[i] (int64): the samples whose output's argmax is their class.
    # learning_rate: a number, or a schedule (kind, params) as learning_rates takes it, evaluated
    # natively for each step (step i after step - 1 + i steps). Stops after a non-finite loss;
    # a NaN or negative rate raises ValueError before its step (the steps before it count).
    # tail > 0: once the count steps ran, one more on the tail samples after them in order (an
    # epoch's last, partial batch; losses and correct then need count + 1 entries). continuing: the
    # caller's word that x and its values are those of the last call, so that the first layer's
    # units proven dead stay proven (else the proof starts afresh).
    # Returns the steps run.
    def run_steps(
        self,
        x: Array,
        targets: NDArray[Any],
        order: NDArray[np.int64],
        first: int,
        count: int,
        learning_rate: float | tuple[str, Sequence[float]],
        step: int,
        losses: NDArray[np.float64],
        correct: NDArray[np.int64] | None,
        weights: Array | None = None,
        binary_threshold: float | None = None,
        continuing: bool = False,
        tail: int = 0,
    ) -> int: ...
    # Units of the first layer (relu Dense) that run_steps calls have proven dead over their data
    # set: set to +0, not computed, while their weights keep their bits.
    @property
    def proven_dead_units(self) -> int: ...
    # Optimizer updates the last run or run_steps call applied.
    @property
    def last_updates(self) -> int: ...
    # Threads the last run_steps call settled on (0 before any); the choice lasts across calls.
    @property
    def last_threads(self) -> int: ...
    # Steps the run_steps calls have run so far as probes of all threads against one.
    @property
    def probe_steps(self) -> int: ...
    # Takes over what other learnt of its teams, and its thread choice when that settled on all
    # threads (a step of the same dtype and layer shapes, compiled again); only the time depends on them.
    def adopt_timing(self, other: DenseStackStep) -> None: ...
