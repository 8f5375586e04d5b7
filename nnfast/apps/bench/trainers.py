"""The training benchmark's systems: the same MLP (and the seed notes' 2-3-1 network) as nnfast,
a from-scratch NumPy loop, PyTorch eager, Keras 3 and scikit-learn each train it (see training.py
for what is measured). A peer that is not installed is reported with the reason, never faked."""
import importlib.metadata
import importlib.util
import json
import math
import os
import sys
import time
import warnings

import numpy as np

from .timing import optional_import

SYSTEMS = ("nnfast", "numpy", "torch", "keras", "sklearn")
LEARNING_RATE = 1e-3
EPSILON = 1e-7


# --------------------------------------------------------------------------------------------------
# peers
# --------------------------------------------------------------------------------------------------

def _choose_backend():
    if "keras" not in sys.modules and "KERAS_BACKEND" not in os.environ:
        if (importlib.util.find_spec("keras") is not None and importlib.util.find_spec("tensorflow") is None
                and importlib.util.find_spec("jax") is None and importlib.util.find_spec("torch") is not None):
            os.environ["KERAS_BACKEND"] = "torch"


def keras_module():
    """(keras, None) for an importable Keras 3, else (None, reason).

    When KERAS_BACKEND is unset and neither TensorFlow nor JAX is installed but torch is, the torch
    backend is chosen (Keras' own default, TensorFlow, would fail to import)."""
    _choose_backend()
    if importlib.util.find_spec("keras") is None:
        return None, "keras is not installed"
    try:
        import keras
    except Exception as err:  # noqa: BLE001 - an optional peer that fails to import is skipped, with why
        return None, f"keras failed to import ({type(err).__name__}: {err})"
    version = getattr(keras, "__version__", "0")
    if int(version.split(".")[0]) < 3:
        return None, f"keras {version} is not Keras 3"
    return keras, None


def keras_description():
    """'keras 3.x (torch backend)' or why Keras is skipped, for the report's peer list. Keras is
    imported only if the training section needs it (the import takes seconds)."""
    if "keras" in sys.modules:
        keras, reason = keras_module()
        return f"keras: {reason} (skipped)" if keras is None else \
            f"keras {keras.__version__} ({keras.backend.backend()} backend)"
    try:
        version = importlib.metadata.version("keras")
    except importlib.metadata.PackageNotFoundError:
        return "keras: not installed (skipped)"
    _choose_backend()
    backend = os.environ.get("KERAS_BACKEND")
    if backend is None:
        try:
            with open(os.path.join(os.path.expanduser("~"), ".keras", "keras.json")) as f:
                backend = json.load(f).get("backend", "tensorflow")
        except (OSError, ValueError):
            backend = "tensorflow"
    return f"keras {version} ({backend} backend)"


def _peer_reason(system):
    """None when `system` can run here, else why it is skipped."""
    if system in ("nnfast", "numpy"):
        return None
    if system == "torch":
        return None if optional_import("torch") else "torch is not installed"
    if system == "keras":
        return keras_module()[1]
    if system == "sklearn":
        return None if optional_import("sklearn.neural_network") else "scikit-learn is not installed"
    raise ValueError(f"unknown system {system!r}; expected one of {SYSTEMS}")


# --------------------------------------------------------------------------------------------------
# MLP trainers: epoch(x, y) continues training for one shuffled pass and returns its mean loss;
# train(x, y, epochs) trains for that many epochs; accuracy(x, y) on integer labels. Those that
# train through a Keras-style fit() also take callbacks in train() and name their Callback class
# (callback_base), so that timed_epochs can time epochs inside one fit call.
# --------------------------------------------------------------------------------------------------

def timed_epochs(trainer, x, y, count):
    """(seconds of each of `count` epochs in a row, the last one's mean loss), each an epoch in the
    middle of training. A trainer that trains through fit() (nnfast, Keras) runs count + 1 epochs in
    one fit call, and the epochs timed are the intervals between their ends (a callback's clock): the
    first one also carries what a fit call does once, before its first epoch (nnfast's NaN/Inf scan
    of x, 14 ms for 60000 x 784 floats on a Xeon thread; Keras's data adapter), which a program that
    trains for several epochs pays once. Other trainers time each epoch() call."""
    base = getattr(trainer, "callback_base", None)
    if base is None:
        seconds, loss = [], float("nan")
        for _ in range(count):
            start = time.perf_counter()
            loss = trainer.epoch(x, y)
            seconds.append(time.perf_counter() - start)
        return seconds, loss

    class EpochEnds(base):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter())

    clock = EpochEnds()
    loss = trainer.train(x, y, count + 1, callbacks=[clock])
    return [float(t) for t in np.diff(clock.times)], loss


class _EpochLoop:
    """train() as that many calls of the subclass's epoch()."""

    def train(self, x, y, epochs):
        for _ in range(epochs):
            loss = self.epoch(x, y)
        return loss


class _NnfastMLP:
    def __init__(self, dims, batch_size, seed):
        from nnfast.layers import Dense
        from nnfast.models import Sequential
        from nnfast.optimizers import Adam
        d, h, c = dims
        self.model = Sequential([Dense(h, activation="relu", input_dim=d), Dense(c, activation="softmax")], seed=seed)
        self.model.compile(optimizer=Adam(learning_rate=LEARNING_RATE, epsilon=EPSILON),
                           loss="sparse_categorical_crossentropy")
        self.batch_size = batch_size

    @property
    def callback_base(self):
        from nnfast.callbacks import Callback
        return Callback

    def train(self, x, y, epochs, callbacks=None):
        return self.model.fit(x, y, batch_size=self.batch_size, epochs=epochs, verbose=0,
                              callbacks=callbacks).history["loss"][-1]

    def epoch(self, x, y):
        return self.train(x, y, 1)

    def accuracy(self, x, y):
        return float(np.mean(self.model.predict(x, batch_size=256, verbose=0).argmax(axis=1) == y))


class _NumpyMLP(_EpochLoop):
    """From scratch, as the seed notes and "Deep Learning from Scratch" write it: arrays keyed
    W1, b1, W2, b2, a forward that keeps what backward needs, and the book's Adam."""

    def __init__(self, dims, batch_size, seed):
        d, h, c = dims
        self.rng = np.random.default_rng(seed)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(((d, h), (h, c)), start=1):
            limit = math.sqrt(6.0 / (fan_in + fan_out))  # glorot uniform, as Keras and nnfast
            self.params[f"W{i}"] = self.rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)
            self.params[f"b{i}"] = np.zeros(fan_out, np.float32)
        self.m = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.v = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.iter = 0
        self.batch_size = batch_size

    def loss_and_grads(self, x, t):
        p = self.params
        z1 = x @ p["W1"] + p["b1"]
        h = np.maximum(z1, 0)
        z2 = h @ p["W2"] + p["b2"]
        z2 -= z2.max(axis=1, keepdims=True)
        e = np.exp(z2)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(x))
        loss = float(np.mean(np.log(s[:, 0]) - z2[rows, t]))
        dz2 = e / s
        dz2[rows, t] -= 1
        dz2 /= len(x)
        dh = dz2 @ p["W2"].T
        dh[z1 <= 0] = 0
        grads = {"W2": h.T @ dz2, "b2": dz2.sum(axis=0), "W1": x.T @ dh, "b1": dh.sum(axis=0)}
        return loss, grads

    def adam(self, grads, lr=LEARNING_RATE, beta1=0.9, beta2=0.999):
        self.iter += 1
        lr_t = lr * math.sqrt(1.0 - beta2 ** self.iter) / (1.0 - beta1 ** self.iter)
        for k, w in self.params.items():
            g = grads[k]
            self.m[k] += (1 - beta1) * (g - self.m[k])
            self.v[k] += (1 - beta2) * (g ** 2 - self.v[k])
            w -= lr_t * self.m[k] / (np.sqrt(self.v[k]) + EPSILON)

    def epoch(self, x, y):
        order = self.rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), self.batch_size):
            idx = order[start:start + self.batch_size]
            loss, grads = self.loss_and_grads(x[idx], y[idx])
            self.adam(grads)
            total += loss * len(idx)
        return total / len(x)

    def accuracy(self, x, y):
        p = self.params
        out = np.maximum(x @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
        return float(np.mean(out.argmax(axis=1) == y))


class _TorchMLP(_EpochLoop):
    def __init__(self, dims, batch_size, seed):
        import torch
        d, h, c = dims
        self.torch = torch
        with torch.random.fork_rng():  # seeded weights without touching the caller's RNG
            torch.manual_seed(seed)
            self.model = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, c))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE, eps=EPSILON, fused=True)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.gen = torch.Generator().manual_seed(seed)
        self.batch_size = batch_size

    def epoch(self, x, y):
        torch = self.torch
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        perm = torch.randperm(len(x), generator=self.gen)
        total = 0.0
        for start in range(0, len(x), self.batch_size):
            idx = perm[start:start + self.batch_size]
            self.opt.zero_grad()
            loss = self.loss_fn(self.model(xt[idx]), yt[idx])
            loss.backward()
            self.opt.step()
            total += loss.item() * len(idx)
        return total / len(x)

    def accuracy(self, x, y):
        with self.torch.no_grad():
            out = self.model(self.torch.from_numpy(x))
        return float(np.mean(out.argmax(dim=1).numpy() == y))


class _KerasMLP:
    def __init__(self, dims, batch_size, seed):
        keras, reason = keras_module()
        if keras is None:
            raise ImportError(reason)
        d, h, c = dims
        init = keras.initializers.GlorotUniform
        self.model = keras.Sequential([
            keras.Input((d,)),
            keras.layers.Dense(h, activation="relu", kernel_initializer=init(seed=seed)),
            keras.layers.Dense(c, activation="softmax", kernel_initializer=init(seed=seed + 1)),
        ])
        self.model.compile(optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE, epsilon=EPSILON),
                           loss="sparse_categorical_crossentropy")
        self.batch_size = batch_size

    @property
    def callback_base(self):
        return keras_module()[0].callbacks.Callback

    def train(self, x, y, epochs, callbacks=None):
        h = self.model.fit(x, y, batch_size=self.batch_size, epochs=epochs, verbose=0, shuffle=True,
                           callbacks=callbacks)
        return h.history["loss"][-1]

    def epoch(self, x, y):
        return self.train(x, y, 1)

    def accuracy(self, x, y):
        with warnings.catch_warnings():
            # Keras 3.x's torch backend converts with np.array(tensor), which NumPy 2 deprecates
            warnings.simplefilter("ignore", DeprecationWarning)
            out = self.model.predict(x, batch_size=256, verbose=0)
        return float(np.mean(np.asarray(out).argmax(axis=1) == y))


class _SklearnMLP:
    def __init__(self, dims, batch_size, seed):
        from sklearn.neural_network import MLPClassifier
        d, h, c = dims
        self.classes = np.arange(c)
        self.clf = MLPClassifier(hidden_layer_sizes=(h,), activation="relu", solver="adam", alpha=0.0,
                                 batch_size=batch_size, learning_rate_init=LEARNING_RATE, epsilon=EPSILON,
                                 max_iter=1, shuffle=True, random_state=seed)

    def epoch(self, x, y):
        self.clf.partial_fit(x, y, classes=self.classes)  # one epoch; the Adam state carries over
        return float(self.clf.loss_)

    def train(self, x, y, epochs):
        from sklearn.exceptions import ConvergenceWarning
        # exactly `epochs` epochs: no early stop on a flat loss; max_iter reached warns: expected here
        self.clf.set_params(max_iter=epochs, n_iter_no_change=epochs + 1, tol=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.clf.fit(x, y)
        return float(self.clf.loss_)

    def accuracy(self, x, y):
        return float(np.mean(self.clf.predict(x) == y))


_MLPS = {"nnfast": _NnfastMLP, "numpy": _NumpyMLP, "torch": _TorchMLP, "keras": _KerasMLP, "sklearn": _SklearnMLP}


def mlp_trainer(system, dims, batch_size, seed=0):
    """(trainer, None) for an MLP dims = (inputs, hidden, classes) on `system`, or (None, reason)."""
    reason = _peer_reason(system)
    if reason:
        return None, reason
    return _MLPS[system](dims, batch_size, seed), None


# --------------------------------------------------------------------------------------------------
# the seed notes' 2-3-1 network: step functions
# --------------------------------------------------------------------------------------------------

class _NotesNetwork:
    """The seed notes' NeuralNetwork class (2-3-1, sigmoid, no biases, randn weights), with the
    derivatives taken from the activations (the notes' slips corrected)."""

    def __init__(self, seed=812):
        rng = np.random.default_rng(seed)
        self.w1 = rng.standard_normal((2, 3))
        self.w2 = rng.standard_normal((3, 1))

    @staticmethod
    def sigmoid(s):
        return 1 / (1 + np.exp(-s))

    def feed_forward(self, X):
        self.hidden_sum = np.dot(X, self.w1)
        self.activated_hidden = self.sigmoid(self.hidden_sum)
        self.output_sum = np.dot(self.activated_hidden, self.w2)
        self.activated_output = self.sigmoid(self.output_sum)
        return self.activated_output

    def backward(self, X, y, o):
        self.o_error = y - o
        self.o_delta = self.o_error * o * (1 - o)
        self.z2_error = self.o_delta.dot(self.w2.T)
        self.z2_delta = self.z2_error * self.activated_hidden * (1 - self.activated_hidden)
        self.w1 += X.T.dot(self.z2_delta)
        self.w2 += self.activated_hidden.T.dot(self.o_delta)

    def train(self, X, y):
        o = self.feed_forward(X)
        self.backward(X, y, o)


def seed_step_function(system, seed=812):
    """(fn, None): one full-batch training step of the 2-3-1 network on the study-hours data for
    `system`; or (None, reason)."""
    from nnfast import datasets
    x, y = datasets.study_hours()
    reason = _peer_reason(system)
    if reason:
        return None, reason
    if system == "nnfast":
        from nnfast.layers import Dense
        from nnfast.models import Sequential
        from nnfast.optimizers import SGD
        model = Sequential([Dense(3, activation="sigmoid", use_bias=False, input_dim=2,
                                  kernel_initializer="random_normal"),
                            Dense(1, activation="sigmoid", use_bias=False, kernel_initializer="random_normal")],
                           dtype="float64", seed=seed)
        model.compile(optimizer=SGD(learning_rate=1.5), loss="mse")
        return (lambda: model.train_on_batch(x, y)), None
    if system == "numpy":
        net = _NotesNetwork(seed)
        return (lambda: net.train(x, y)), None
    if system == "torch":
        import torch
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False), torch.nn.Sigmoid(),
                                        torch.nn.Linear(3, 1, bias=False), torch.nn.Sigmoid()).double()
        opt = torch.optim.SGD(model.parameters(), lr=1.5)
        loss_fn = torch.nn.MSELoss()
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def step():
            opt.zero_grad()
            loss = loss_fn(model(xt), yt)
            loss.backward()
            opt.step()
            return loss.item()
        return step, None
    if system == "keras":
        keras, _ = keras_module()
        init = keras.initializers.RandomNormal
        model = keras.Sequential([
            keras.Input((2,), dtype="float64"),
            keras.layers.Dense(3, activation="sigmoid", use_bias=False, dtype="float64",
                               kernel_initializer=init(seed=seed)),
            keras.layers.Dense(1, activation="sigmoid", use_bias=False, dtype="float64",
                               kernel_initializer=init(seed=seed + 1)),
        ])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.5), loss="mse")
        return (lambda: model.train_on_batch(x, y)), None
    return None, "no 2-3-1 sigmoid network step in scikit-learn"
