"""The two backends a model runs on, behind one interface: "native" (nnfast.ops, writing into the
model's preallocated buffers) and "reference" (nnfast.reference, the NumPy twin, whose results are
copied into the same buffers). A model is written once against this interface, so the two backends
run the very same training loop and must agree."""
from . import _core, ops, reference

BACKENDS = ("native", "reference")


class NativeBackend:
    """The native kernels with out= buffers: no allocation in the training step. The hot calls go
    to nnfast._core positionally (nnfast.ops is the same thing with keywords and docstrings)."""
    name = "native"
    ops = ops

    def dense_forward(self, x, w, b, activation, out):
        return _core.dense_forward(x, w, b, activation, out)

    def dense_backward(self, x, w, y, dy, activation, dx_out, dw_out, db_out):
        """Fills dw_out, db_out (if given) and dx_out (if given); returns dx_out."""
        _core.dense_backward(x, w, y, dy, activation, dx_out is not None, db_out is not None, dx_out, dw_out,
                             db_out)
        return dx_out

    def activation_forward(self, z, activation, out):
        return _core.activation_forward(z, activation, out)

    def activation_backward(self, y, dy, activation, out):
        return _core.activation_backward(y, dy, activation, out)

    def dropout_forward(self, x, rate, seed, out, mask_out):
        return ops.dropout_forward(x, rate, seed, out=out, mask_out=mask_out)

    def dropout_backward(self, dy, mask, rate, out):
        return ops.dropout_backward(dy, mask, rate, out=out)

    def embedding_backward(self, dy, indices, out):
        """out (rows, cols) = dy (n, cols) summed into the rows `indices` (n) name."""
        return _core.embedding_backward(dy, indices, len(out), out)

    def loss(self, name, pred, target, out, *params):
        """(loss, grad) of the loss kernel `name` (a loss function of nnfast.ops: mse, huber,
        softmax_cross_entropy, ...), params its delta or label smoothing."""
        return getattr(_core, name)(pred, target, out, *params)

    def batch_norm_forward(self, x, gamma, beta, moving_mean, moving_var, training, momentum, epsilon, out,
                           mean_out, inv_std_out):
        return ops.batch_norm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum, epsilon, out,
                                      mean_out, inv_std_out)

    def batch_norm_backward(self, x, gamma, mean, inv_std, dy, training, dx_out, dgamma_out, dbeta_out):
        return ops.batch_norm_backward(x, gamma, mean, inv_std, dy, training, dgamma_out is not None,
                                       dbeta_out is not None, dx_out, dgamma_out, dbeta_out)

    def layer_norm_forward(self, x, gamma, beta, epsilon, out, mean_out, inv_std_out):
        return ops.layer_norm_forward(x, gamma, beta, epsilon, out, mean_out, inv_std_out)

    def layer_norm_backward(self, x, gamma, mean, inv_std, dy, dx_out, dgamma_out, dbeta_out):
        return ops.layer_norm_backward(x, gamma, mean, inv_std, dy, dgamma_out is not None, dbeta_out is not None,
                                       dx_out, dgamma_out, dbeta_out)

    def normalization_forward(self, x, mean, variance, invert, out):
        return _core.normalization_forward(x, mean, variance, invert, out)

    def normalization_backward(self, dy, variance, invert, out):
        return _core.normalization_backward(dy, variance, invert, out)


class ReferenceBackend:
    """nnfast.reference, with its results copied into the model's buffers."""
    name = "reference"
    ops = reference

    def dense_forward(self, x, w, b, activation, out):
        out[...] = reference.dense_forward(x, w, b, activation)
        return out

    def dense_backward(self, x, w, y, dy, activation, dx_out, dw_out, db_out):
        dx, dw, db = reference.dense_backward(x, w, y, dy, activation, need_dx=dx_out is not None,
                                              need_db=db_out is not None)
        dw_out[...] = dw
        if db_out is not None:
            db_out[...] = db
        if dx_out is not None:
            dx_out[...] = dx
        return dx_out

    def activation_forward(self, z, activation, out):
        out[...] = reference.activation_forward(z, activation)
        return out

    def activation_backward(self, y, dy, activation, out):
        out[...] = reference.activation_backward(y, dy, activation)
        return out

    def dropout_forward(self, x, rate, seed, out, mask_out):
        y, mask = reference.dropout_forward(x, rate, seed)
        out[...] = y
        mask_out[...] = mask
        return out, mask_out

    def dropout_backward(self, dy, mask, rate, out):
        out[...] = reference.dropout_backward(dy, mask, rate)
        return out

    def embedding_backward(self, dy, indices, out):
        out[...] = reference.embedding_backward(dy, indices, len(out))
        return out

    def loss(self, name, pred, target, out, *params):
        value, grad = getattr(reference, name)(pred, target, *params)
        out[...] = grad
        return value, out

    def batch_norm_forward(self, x, gamma, beta, moving_mean, moving_var, training, momentum, epsilon, out,
                           mean_out, inv_std_out):
        results = reference.batch_norm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum, epsilon)
        return copy_into(results, (out, mean_out, inv_std_out))

    def batch_norm_backward(self, x, gamma, mean, inv_std, dy, training, dx_out, dgamma_out, dbeta_out):
        results = reference.batch_norm_backward(x, gamma, mean, inv_std, dy, training, dgamma_out is not None,
                                                dbeta_out is not None)
        return copy_into(results, (dx_out, dgamma_out, dbeta_out))

    def layer_norm_forward(self, x, gamma, beta, epsilon, out, mean_out, inv_std_out):
        return copy_into(reference.layer_norm_forward(x, gamma, beta, epsilon), (out, mean_out, inv_std_out))

    def layer_norm_backward(self, x, gamma, mean, inv_std, dy, dx_out, dgamma_out, dbeta_out):
        results = reference.layer_norm_backward(x, gamma, mean, inv_std, dy, dgamma_out is not None,
                                                dbeta_out is not None)
        return copy_into(results, (dx_out, dgamma_out, dbeta_out))

    def normalization_forward(self, x, mean, variance, invert, out):
        out[...] = reference.normalization_forward(x, mean, variance, invert)
        return out

    def normalization_backward(self, dy, variance, invert, out):
        out[...] = reference.normalization_backward(dy, variance, invert)
        return out


def copy_into(results, buffers):
    """The reference's results copied into the model's buffers (None results and buffers skipped)."""
    for value, buffer in zip(results, buffers):
        if value is not None and buffer is not None:
            buffer[...] = value
    return tuple(buffer if value is not None else None for value, buffer in zip(results, buffers))


def get(name):
    """The backend called `name` ("native" or "reference")."""
    if name == "native":
        return NativeBackend()
    if name == "reference":
        return ReferenceBackend()
    raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
