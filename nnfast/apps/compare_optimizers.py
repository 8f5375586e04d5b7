"""`python -m nnfast compare-optimizers`: the seed notes' optimizer comparison, after "Deep Learning
from Scratch" chapter 6, run on nnfast's optimizers.

(a) Paths on f(x, y) = x^2/20 + y^2 from (-7, 2), 30 steps, with the book's classes
(:mod:`nnfast.compat.dlfs`, fused native updates on NumPy arrays; the gradient (x/10, 2y) is computed
analytically in NumPy). Learning rates of the book's ``optimizer_compare_naive.py`` where it has them
(SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3); Nesterov takes Momentum's 0.1, RMSprop (decay 0.99)
0.1. Figure: one panel per optimizer over the contours of f.

(b) Training-loss curves of a relu/softmax MLP trained with each optimizer from the same initial
weights and the same batch order (seed 0): scikit-learn's digits (64-64-10, batch 32, 20 epochs) and,
given the four IDX files, Fashion-MNIST (784-128-10, batch 128, 5 epochs). The optimizers are
:mod:`nnfast.optimizers` set up as the book's classes at the book's defaults (its
``optimizer_compare_mnist.py``): SGD lr 0.01; Momentum lr 0.01, momentum 0.9; Nesterov (Keras form)
lr 0.01, momentum 0.9; AdaGrad lr 0.01 (accumulator from 0, eps 1e-7: the torch convention);
RMSprop lr 0.01, rho 0.99, eps 1e-7 (torch convention, the book's form); Adam lr 0.001 (Keras
convention, the book's lr_t form). The curves are per-minibatch losses, smoothed as in the book.

Output: PNG figures (matplotlib: ``pip install 'nnfast[plot]'``) and a text table of final losses,
test accuracies and the final points of the paths.
"""
import os
import time

import numpy as np

from nnfast import datasets, optimizers
from nnfast.callbacks import Callback
from nnfast.compat import dlfs
from nnfast.layers import Dense
from nnfast.models import Sequential

START = (-7.0, 2.0)
STEPS = 30

# name -> (factory, learning-rate note) for the 2-D paths (the book's classes)
PATH_OPTIMIZERS = {
    "SGD": (lambda: dlfs.SGD(lr=0.95), "lr 0.95"),
    "Momentum": (lambda: dlfs.Momentum(lr=0.1, momentum=0.9), "lr 0.1, momentum 0.9"),
    "Nesterov": (lambda: dlfs.Nesterov(lr=0.1, momentum=0.9), "lr 0.1, momentum 0.9"),
    "AdaGrad": (lambda: dlfs.AdaGrad(lr=1.5), "lr 1.5"),
    "RMSprop": (lambda: dlfs.RMSprop(lr=0.1, decay_rate=0.99), "lr 0.1, decay 0.99"),
    "Adam": (lambda: dlfs.Adam(lr=0.3, beta1=0.9, beta2=0.999), "lr 0.3"),
}

# name -> (factory, learning-rate note) for the training curves (nnfast.optimizers as the book's classes)
TRAINING_OPTIMIZERS = {
    "SGD": (lambda: optimizers.SGD(learning_rate=0.01), "lr 0.01"),
    "Momentum": (lambda: optimizers.SGD(learning_rate=0.01, momentum=0.9), "lr 0.01, momentum 0.9"),
    "Nesterov": (lambda: optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
                 "lr 0.01, momentum 0.9"),
    "AdaGrad": (lambda: optimizers.Adagrad(learning_rate=0.01, epsilon=1e-7, convention="torch"), "lr 0.01"),
    "RMSprop": (lambda: optimizers.RMSprop(learning_rate=0.01, rho=0.99, epsilon=1e-7, convention="torch"),
                "lr 0.01, rho 0.99"),
    "Adam": (lambda: optimizers.Adam(learning_rate=0.001), "lr 0.001"),
}

# data set -> (layer sizes, batch size, default epochs)
SETUPS = {"digits": ((64, 64, 10), 32, 20), "fashion-mnist": ((784, 128, 10), 128, 5)}


def f(x, y):
    """The book's test function x^2/20 + y^2 (minimum 0 at (0, 0))."""
    return x ** 2 / 20.0 + y ** 2


def grad_f(x, y):
    """(df/dx, df/dy) = (x/10, 2y)."""
    return x / 10.0, 2.0 * y


def optimizer_paths(steps=STEPS, start=START, names=tuple(PATH_OPTIMIZERS)):
    """{name: (steps + 1, 2) array of the points visited}: `steps` updates of each optimizer on f
    from `start`, through nnfast's DLFS classes on float64 arrays."""
    paths = {}
    for name in names:
        opt = PATH_OPTIMIZERS[name][0]()
        params = {"x": np.array([start[0]], dtype=np.float64), "y": np.array([start[1]], dtype=np.float64)}
        points = [(params["x"][0], params["y"][0])]
        for _ in range(steps):
            gx, gy = grad_f(params["x"], params["y"])
            opt.update(params, {"x": gx, "y": gy})
            points.append((params["x"][0], params["y"][0]))
        paths[name] = np.array(points)
    return paths


class _BatchLosses(Callback):
    """Per-minibatch training losses, recovered from the running means of the batch logs."""

    def __init__(self, samples, batch_size):
        super().__init__()
        self.samples, self.batch_size = samples, batch_size
        self.losses = []

    def on_epoch_begin(self, epoch, logs=None):
        self._total = 0.0

    def on_train_batch_end(self, batch, logs=None):
        seen = min((batch + 1) * self.batch_size, self.samples)
        total = logs["loss"] * seen
        self.losses.append((total - self._total) / (seen - min(batch * self.batch_size, self.samples)))
        self._total = total


def load(dataset, fashion_mnist=None):
    """((x_train, y_train), (x_test, y_test)) as float32 rows in [0, 1] and int64 labels."""
    if dataset == "digits":
        return datasets.load_digits(seed=0)
    (xt, yt), (xv, yv) = datasets.load_fashion_mnist(fashion_mnist)
    return ((xt.reshape(len(xt), -1).astype(np.float32) / 255.0, yt.astype(np.int64)),
            (xv.reshape(len(xv), -1).astype(np.float32) / 255.0, yv.astype(np.int64)))


def loss_curves(dataset="digits", epochs=None, fashion_mnist=None, seed=0, names=tuple(TRAINING_OPTIMIZERS),
                data=None):
    """{name: dict(batch_losses, epoch_losses, final_loss, test_accuracy, seconds)}: the same MLP,
    from the same initial weights and batch order, trained with each optimizer. `data` (as `load`
    returns it) skips loading."""
    (d, h, c), batch_size, default_epochs = SETUPS[dataset]
    epochs = default_epochs if epochs is None else epochs
    (xt, yt), (xv, yv) = data if data is not None else load(dataset, fashion_mnist)
    results = {}
    for name in names:
        model = Sequential([Dense(h, activation="relu", input_dim=d), Dense(c, activation="softmax")], seed=seed)
        model.compile(optimizer=TRAINING_OPTIMIZERS[name][0](), loss="sparse_categorical_crossentropy")
        batches = _BatchLosses(len(xt), batch_size)
        start = time.perf_counter()
        history = model.fit(xt, yt, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[batches])
        seconds = time.perf_counter() - start
        accuracy = float(np.mean(model.predict(xv, batch_size=256, verbose=0).argmax(axis=1) == yv))
        results[name] = dict(batch_losses=np.array(batches.losses), epoch_losses=history.history["loss"],
                             final_loss=history.history["loss"][-1], test_accuracy=accuracy, seconds=seconds,
                             epochs=epochs, batch_size=batch_size)
    return results


def smooth_curve(x):
    """The book's smoothing (``common/util.py``): a Kaiser-window moving average, 11 points."""
    window_len = 11
    if len(x) < window_len:
        return np.asarray(x, dtype=float)
    s = np.r_[x[window_len - 1:0:-1], x, x[-1:-window_len:-1]]
    w = np.kaiser(window_len, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("compare-optimizers writes PNG figures with matplotlib, which is not installed: "
                          "pip install 'nnfast[plot]'") from err
    return plt


def plot_paths(paths, filename):
    """One panel per optimizer: its path over the contours of f; the minimum marked +."""
    plt = _pyplot()
    names = list(paths)
    cols = 3
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    xs, ys = np.meshgrid(np.arange(-10, 10, 0.05), np.arange(-5, 5, 0.05))
    zs = f(xs, ys)
    levels = np.geomspace(0.02, 25.0, 12)  # geometric: the valley floor is visible too
    for ax, name in zip(axes.flat, names):
        p = paths[name]
        ax.contour(xs, ys, zs, levels=levels, cmap="Greys_r", linewidths=0.8)
        ax.plot(p[:, 0], p[:, 1], "o-", color="tab:red", markersize=3, linewidth=1)
        ax.plot(0, 0, "+", color="tab:blue", markersize=12, markeredgewidth=2, zorder=5)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-5, 5)
        ax.set_title(f"{name} ({PATH_OPTIMIZERS[name][1]})", fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    steps = len(next(iter(paths.values()))) - 1
    fig.suptitle(f"f(x, y) = x^2/20 + y^2 from {START}, {steps} steps (nnfast.compat.dlfs)")
    fig.tight_layout()
    fig.savefig(filename, dpi=100)
    plt.close(fig)
    return filename


def plot_curves(results, title, filename):
    """Smoothed per-minibatch training loss of every optimizer (log scale)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, r in results.items():
        ax.plot(smooth_curve(r["batch_losses"]), label=f"{name} ({TRAINING_OPTIMIZERS[name][1]})", linewidth=1.2)
    ax.set_yscale("log")
    ax.set_xlabel("iteration (minibatch)")
    ax.set_ylabel("training loss (smoothed)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(filename, dpi=100)
    plt.close(fig)
    return filename


def _table(head, rows):
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head] + rows]


def run(output_dir=".", fashion_mnist=None, epochs=None, print_fn=print):
    """Compute everything, write the PNG figures into output_dir and print the tables.

    Returns {"paths": {...}, "digits": {...} or None, "fashion-mnist": {...} or None, "files": [...]}.
    Raises ImportError (naming the 'plot' extra) before any work when matplotlib is missing."""
    _pyplot()
    fashion = load("fashion-mnist", fashion_mnist) if fashion_mnist is not None else None  # fail early
    os.makedirs(output_dir, exist_ok=True)
    out = {"files": [], "digits": None, "fashion-mnist": None}

    paths = optimizer_paths()
    out["paths"] = paths
    out["files"].append(plot_paths(paths, os.path.join(output_dir, "optimizer_paths.png")))
    x0, y0 = START
    print_fn(f"Paths on f(x, y) = x^2/20 + y^2 from ({x0:g}, {y0:g}), f = {f(x0, y0):.4f}, {STEPS} steps "
             "(nnfast.compat.dlfs):")
    rows = [(name, PATH_OPTIMIZERS[name][1], f"{p[-1, 0]:+.4f}", f"{p[-1, 1]:+.4f}", f"{f(*p[-1]):.3e}")
            for name, p in paths.items()]
    for line in _table(("optimizer", "hyperparameters", "final x", "final y", "final f"), rows):
        print_fn("  " + line)

    todo = [("digits", None)]
    if fashion is not None:
        todo.append(("fashion-mnist", fashion))
    for dataset, data in todo:
        (d, h, c), batch_size, default_epochs = SETUPS[dataset]
        n_epochs = default_epochs if epochs is None else epochs
        print_fn("")
        try:
            results = loss_curves(dataset, n_epochs, data=data)
        except ImportError as err:  # digits without scikit-learn
            print_fn(f"{dataset}: skipped ({err})")
            continue
        out[dataset] = results
        title = (f"{dataset}: MLP {d}-{h}-{c} (relu, softmax), batch {batch_size}, {n_epochs} epochs, "
                 "same initial weights")
        name = "optimizer_loss_" + dataset.replace("-", "_") + ".png"
        out["files"].append(plot_curves(results, title, os.path.join(output_dir, name)))
        print_fn(f"Training on {dataset}: MLP {d}-{h}-{c}, batch {batch_size}, {n_epochs} epochs, seed 0 "
                 "(nnfast.optimizers):")
        rows = [(n, TRAINING_OPTIMIZERS[n][1], f"{r['final_loss']:.4f}", f"{r['test_accuracy']:.4f}",
                 f"{r['seconds']:.2f}") for n, r in results.items()]
        for line in _table(("optimizer", "hyperparameters", "final epoch loss", "test accuracy", "wall s"), rows):
            print_fn("  " + line)
    print_fn("")
    for path in out["files"]:
        print_fn(f"wrote {path}")
    return out
