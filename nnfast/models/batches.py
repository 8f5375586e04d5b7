"""Batches of a model's inputs, which are one array or, for a model with several inputs, a list of
arrays with one row per sample each: counting samples, slicing rows, and gathering shuffled rows
into buffers made once per batch size."""
import numpy as np

from ..utils import aligned


def sample_count(x):
    return len(x[0]) if isinstance(x, list) else len(x)


def rows(x, start, stop):
    """Rows start:stop of every input (views)."""
    return [a[start:stop] for a in x] if isinstance(x, list) else x[start:stop]


class BatchBuffers:
    """Buffers for the batches of one fit: the full batch and the last, partial one reuse them."""

    def __init__(self, x, y, batch_size):
        arrays = x if isinstance(x, list) else [x]
        self.many = isinstance(x, list)
        self.x = [aligned.zeros_shaped((batch_size,) + a.shape[1:], a.dtype) for a in arrays]
        self.y = aligned.zeros_shaped((batch_size,) + y.shape[1:], y.dtype)

    def gather(self, x, y, idx):
        """(x rows, y rows) at the sample indices idx, copied into the buffers."""
        n = len(idx)
        xb = [buf[:n] for buf in self.x]
        for a, out in zip(x if self.many else [x], xb):
            np.take(a, idx, axis=0, out=out, mode="clip")
        yb = self.y[:n]
        np.take(y, idx, axis=0, out=yb, mode="clip")
        return (xb if self.many else xb[0]), yb
