"""`python -m nnfast demo`: the lecture notes' examples, trained on the native and the reference
backends side by side, with a table of final loss / accuracy and wall time (and loss curves with
--plot, when matplotlib is installed)."""
import time

import numpy as np

from nnfast import datasets, optimizers
from nnfast.layers import Dense
from nnfast.models import Sequential


def seed_network(backend):
    """The notes' 2-3-1 sigmoid network on the study-hours data: 10000 full-batch iterations of
    plain gradient descent, no biases, weights from randn. The notes step by X^T delta with the
    error (y - o); MSE over 3 samples has gradient 2/3 of that, hence learning rate 1.5."""
    x, y = datasets.study_hours()
    model = Sequential([Dense(3, activation="sigmoid", use_bias=False, input_dim=2, kernel_initializer="random_normal"),
                        Dense(1, activation="sigmoid", use_bias=False, kernel_initializer="random_normal")],
                       backend=backend, dtype="float64", seed=812)
    model.compile(optimizer=optimizers.SGD(learning_rate=1.5), loss="mse")
    curve = []
    start = time.perf_counter()
    for i in range(10000):
        loss = model.train_on_batch(x, y)
        if i % 100 == 0:
            curve.append(loss)
    seconds = time.perf_counter() - start
    return dict(loss=model.evaluate(x, y, verbose=0), accuracy=None, seconds=seconds, curve=curve,
                note="10000 iterations, full batch")


def seed_regression(backend):
    """The notes' Keras example: y = 5 study + 2 sleep + 40 (normalised), Dense(3, sigmoid) ->
    Dense(1, sigmoid), SGD, MSE, 50 epochs at batch 32."""
    x, y = datasets.make_samples(1000, seed=0)
    model = Sequential([Dense(3, input_dim=2, activation="sigmoid"), Dense(1, activation="sigmoid")],
                       backend=backend, seed=0)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    start = time.perf_counter()
    h = model.fit(x, y, epochs=50, verbose=0)
    return dict(loss=h.history["loss"][-1], accuracy=None, seconds=time.perf_counter() - start,
                curve=h.history["loss"], note=f"50 epochs, mae {h.history['mae'][-1]:.4f}")


def digits(backend):
    """scikit-learn's 8x8 digits: 64-64-10, Adam 1e-3, batch 32, 50 epochs; test accuracy."""
    (xt, yt), (xv, yv) = datasets.load_digits(seed=0)
    model = Sequential([Dense(64, activation="relu", input_dim=64), Dense(10, activation="softmax")],
                       backend=backend, seed=0)
    model.compile(optimizer=optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    h = model.fit(xt, yt, batch_size=32, epochs=50, verbose=0)
    seconds = time.perf_counter() - start
    result = model.evaluate(xv, yv, return_dict=True, verbose=0)
    return dict(loss=result["loss"], accuracy=result["accuracy"], seconds=seconds, curve=h.history["loss"],
                note="50 epochs, test set")


EXAMPLES = {"seed 2-3-1 network": seed_network, "seed regression": seed_regression, "digits": digits}


def run(plot=None, print_fn=print):
    """Train every example on both backends; print the table; optionally plot the loss curves."""
    rows, curves = [], {}
    for name, fn in EXAMPLES.items():
        for backend in ("native", "reference"):
            try:
                r = fn(backend)
            except ImportError as err:  # digits without scikit-learn
                rows.append((name, backend, "skipped", "", "", str(err)))
                break
            curves[(name, backend)] = r["curve"]
            acc = "" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
            rows.append((name, backend, f"{r['loss']:.6f}", acc, f"{r['seconds']:.3f}", r["note"]))
    head = ("example", "backend", "final loss", "accuracy", "wall s", "")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print_fn("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    if plot:
        _plot(curves, plot)
        print_fn(f"loss curves written to {plot}")
    return rows


def _plot(curves, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("--plot needs matplotlib: pip install 'nnfast[plot]'") from err
    names = sorted({name for name, _ in curves})
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4))
    for ax, name in zip(np.atleast_1d(axes), names):
        for backend, style in (("native", "-"), ("reference", "--")):
            if (name, backend) in curves:
                ax.plot(curves[(name, backend)], style, label=backend)
        ax.set_title(name)
        ax.set_yscale("log")
        ax.set_xlabel("epoch (x100 iterations for the 2-3-1 network)")
        ax.set_ylabel("loss")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
