"""The numbers of scikit-learn's multi-layer perceptron on nnfast's kernels: the forward pass of a
fitted model (prediction), and the loss and gradient of one batch for training, as
sklearn.neural_network computes them (its loss functions, its L2 term, its deltas), with the dense
layers on nnfast.ops.

Training keeps the parameters in one contiguous arena, scikit-learn's packed order (every coefs_
matrix, then every intercepts_ vector), so that an optimizer step is one fused nnfast call and the
L-BFGS vector is the arena itself; coefs_ and intercepts_ are views into it."""
import numpy as np
from scipy.special import xlogy

from .. import ops
from ..utils import aligned

# scikit-learn's activation names -> nnfast's kernels (applied from the activated output, as
# scikit-learn's derivatives are too)
HIDDEN = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
OUTPUT = {"identity": "linear", "logistic": "sigmoid", "softmax": "softmax"}  # "exp" (poisson) in NumPy

# prediction of sparse inputs runs through dense blocks of this many rows
SPARSE_ROWS = 1024


def compute_dtype(x_dtype, coefs):
    """The dtype scikit-learn's forward pass would give (X @ W in NumPy's promotion), as one of the
    kernels' float32 / float64 (anything else computes in float64)."""
    dtype = np.result_type(x_dtype, *(c.dtype for c in coefs))
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def dense_rows(X, dtype):
    """X as a C-contiguous array of `dtype` (a sparse matrix densified)."""
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=dtype)


def output_activation(z, name):
    """Applies scikit-learn's output activation to z in place."""
    if name == "exp":
        np.exp(z, out=z)
    elif name != "identity":
        ops.activation_forward(z, OUTPUT[name], out=z)
    return z


def forward(coefs, intercepts, activation, out_activation, X):
    """The output layer's activations for X (samples, features), dense or sparse: scikit-learn's
    _forward_pass_fast on nnfast's dense kernels."""
    dtype = compute_dtype(X.dtype, coefs)
    coefs = [np.ascontiguousarray(c, dtype) for c in coefs]
    intercepts = [np.ascontiguousarray(b, dtype) for b in intercepts]
    if hasattr(X, "toarray"):
        blocks = [forward(coefs, intercepts, activation, out_activation, dense_rows(X[i:i + SPARSE_ROWS], dtype))
                  for i in range(0, X.shape[0], SPARSE_ROWS)]
        return np.concatenate(blocks) if blocks else np.empty((0, coefs[-1].shape[1]), dtype)
    a = np.ascontiguousarray(X, dtype)
    last = len(coefs) - 1
    for i, (w, b) in enumerate(zip(coefs, intercepts)):
        a = ops.dense_forward(a, w, b, HIDDEN[activation] if i < last else "linear")
    return output_activation(a, out_activation)


# --- scikit-learn's losses (sklearn.neural_network._base), on the output activations -------------

def squared_loss(y, p, sample_weight):
    return 0.5 * np.average((y - p) ** 2, weights=sample_weight, axis=0).mean()


def poisson_loss(y, p, sample_weight):
    return np.average(xlogy(y, y / p) - y + p, weights=sample_weight, axis=0).sum()


def log_loss(y, p, sample_weight):
    """Multiclass (softmax) log-loss; y one-hot, so each row's sum picks its class's probability."""
    eps = np.finfo(p.dtype).eps
    picked = np.einsum("ij,ij->i", y, p)
    np.clip(picked, eps, 1 - eps, out=picked)
    return -np.average(np.log(picked, out=picked), weights=sample_weight)


def binary_log_loss(y, p, sample_weight):
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1 - eps)
    return -np.average(xlogy(y, p) + xlogy(1 - y, 1 - p), weights=sample_weight, axis=0).sum()


LOSSES = {"identity": squared_loss, "exp": poisson_loss, "softmax": log_loss, "logistic": binary_log_loss}


class Network:
    """Parameters, gradients and batch buffers of one model being trained.

    layer_units: [features, hidden..., outputs]; activation: scikit-learn's hidden activation name;
    out_activation: "identity", "exp", "softmax" or "logistic"; dtype: float32 or float64."""

    def __init__(self, layer_units, activation, out_activation, dtype):
        self.units = [int(u) for u in layer_units]
        self.hidden = HIDDEN[activation]
        self.out_activation = out_activation
        self.loss_function = LOSSES[out_activation]
        self.dtype = np.dtype(dtype)
        self.shapes = list(zip(self.units[:-1], self.units[1:]))
        self.n_coef = sum(i * o for i, o in self.shapes)
        size = self.n_coef + sum(o for _, o in self.shapes)
        self.params = aligned.zeros(size, self.dtype)  # on cache lines, as the solvers' state
        self.grads = aligned.zeros(size, self.dtype)
        self.coefs, self.intercepts = self.views(self.params)
        self.coef_grads, self.intercept_grads = self.views(self.grads)
        self.l2_work = np.empty(self.n_coef, self.dtype)
        self.buffers = {}  # batch size -> (activations, input gradients, delta)

    def views(self, flat):
        """(coefs, intercepts) as views of a packed vector (scikit-learn's _pack order)."""
        coefs, intercepts, start = [], [], 0
        for fan_in, fan_out in self.shapes:
            coefs.append(flat[start:start + fan_in * fan_out].reshape(fan_in, fan_out))
            start += fan_in * fan_out
        for _, fan_out in self.shapes:
            intercepts.append(flat[start:start + fan_out])
            start += fan_out
        return coefs, intercepts

    def load(self, coefs, intercepts):
        """Copies the estimator's coefs_ and intercepts_ into the arena."""
        for dst, src in zip(self.coefs + self.intercepts, list(coefs) + list(intercepts)):
            if dst is not src:
                dst[...] = src

    def batch_buffers(self, n):
        cached = self.buffers.get(n)
        if cached is None:
            if len(self.buffers) >= 3:  # full batches, the last one and a validation or L-BFGS set
                self.buffers.clear()
            acts = [np.empty((n, o), self.dtype) for _, o in self.shapes]
            dxs = [np.empty((n, i), self.dtype) if k else None for k, (i, _) in enumerate(self.shapes)]
            cached = self.buffers[n] = (acts, dxs, np.empty((n, self.units[-1]), self.dtype))
        return cached

    def loss_grad(self, x, y, alpha, sample_weight=None):
        """scikit-learn's _backprop: the loss of batch x (n, features) with targets y (n, outputs)
        of the arena's dtype, its L2 term included; the gradients go to self.grads."""
        n = x.shape[0]
        acts, dxs, delta = self.batch_buffers(n)
        last = len(self.shapes) - 1
        a = x
        for i in range(last + 1):
            ops.dense_forward(a, self.coefs[i], self.intercepts[i], self.hidden if i < last else "linear",
                              out=acts[i])
            a = acts[i]
        p = output_activation(a, self.out_activation)
        loss = self.loss_function(y, p, sample_weight)
        sw_sum = n if sample_weight is None else sample_weight.sum()
        # delta = d loss / d z of the output layer (canonical link: p - y), the 1/sw_sum of the
        # gradients already applied
        np.subtract(p, y, out=delta)
        if sample_weight is None:
            np.multiply(delta, 1.0 / n, out=delta)
        else:
            np.multiply(delta, (sample_weight / sw_sum).astype(self.dtype)[:, None], out=delta)
        dy = delta
        for i in range(last, -1, -1):
            ops.dense_backward(acts[i - 1] if i else x, self.coefs[i], acts[i], dy,
                               self.hidden if i < last else "linear", need_dx=i > 0, dx_out=dxs[i],
                               dw_out=self.coef_grads[i], db_out=self.intercept_grads[i])
            dy = dxs[i]
        # scikit-learn's L2 term: (alpha / 2) * sum of squared coefficients / sw_sum
        weights = self.params[:self.n_coef]
        loss += (0.5 * alpha) * np.dot(weights, weights) / sw_sum
        if alpha:
            grads = self.grads[:self.n_coef]
            np.multiply(weights, alpha / sw_sum, out=self.l2_work)
            np.add(grads, self.l2_work, out=grads)
        return loss
