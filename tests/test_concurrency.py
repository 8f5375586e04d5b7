"""Many Python threads at once (issue #17, item 3): every nnfast.ops function, in float32 and
float64, and the training of separate models, run by 2, 4 and 8 threads together while another
thread keeps changing set_num_threads, give the bits of a serial run; one model shared by a
training thread and predicting threads never shows torn weights (its calls run one at a time:
docs/design.md, "Threads")."""
import functools
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import nnfast
from nnfast import ops

from conftest import num_threads

N = 100_003            # elements of the point-wise ops: past the threading threshold
ROWS, COLS = 512, 203  # the row-wise ops and the normalizations
OPTIMIZER_STEPS = 3


def data(seed, *shape, low=-2.0, high=2.0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def probabilities(seed, rows, cols, dtype=np.float32):
    p = data(seed, rows, cols, low=0.05, high=1.0, dtype=dtype)
    return (p / p.sum(1, keepdims=True)).astype(dtype)


def labels(seed, rows, cols):
    return np.random.default_rng(seed).integers(0, cols, rows)


def optimizer_job(update, n_state, positive_state=(), absent=0, dtype=np.float32, **hyper):
    """Several steps of an in-place update on two tensors of `dtype`, with `n_state` state slots
    (then `absent` slots passed as None); returns the parameters and state."""
    takes_step = "step" in inspect.signature(update).parameters

    def job():
        params = [data(1, N, dtype=dtype), data(2, 300, 7, dtype=dtype)]
        states = [[np.full(p.shape, 0.1, p.dtype) if s in positive_state else np.zeros_like(p) for p in params]
                  for s in range(n_state)]
        for step in range(1, OPTIMIZER_STEPS + 1):
            grads = [data(10 + step, N, dtype=dtype), data(20 + step, 300, 7, dtype=dtype)]
            update(params, grads, *states, *[None] * absent, **(dict(hyper, step=step) if takes_step else hyper))
        return params + [a for s in states for a in s]
    return job


ADAM_LIKE = dict(learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-7)


def prepared(kernel):
    """The update function `kernel` run through ops.prepare_update, called as the update functions are."""
    def update(params, grads, *state, step, learning_rate, **constants):
        ops.prepare_update(kernel, constants, state, learning_rate)(params, grads, step)
    return update


def op_jobs(dtype):
    """{name: job}: each job runs one ops function on fresh deterministic inputs of `dtype` and
    returns what it computed (outputs and every array it wrote in place)."""
    values = functools.partial(data, dtype=dtype)
    optimizer = functools.partial(optimizer_job, dtype=dtype)

    x, dy = values(30, ROWS, COLS), values(31, ROWS, COLS)
    gamma, beta = values(32, COLS, low=0.5), values(33, COLS)
    variance = values(34, COLS, low=0.1)
    jobs = {}
    for act in ops.ACTIVATIONS:
        jobs[f"activation_forward:{act}"] = lambda act=act: ops.activation_forward(x, act)
        jobs[f"activation_backward:{act}"] = lambda act=act: ops.activation_backward(
            ops.activation_forward(x, act), dy, act)
    a, b = values(40, 190, 170), values(41, 170, 180)
    jobs["gemm"] = lambda: ops.gemm(a, b)
    jobs["gemm:transposed"] = lambda: ops.gemm(b, a, trans_a=True, trans_b=True)
    w, bias = values(42, COLS, 150), values(43, 150)
    jobs["dense_forward"] = lambda: ops.dense_forward(x, w, bias, "relu")
    jobs["dense_backward"] = lambda: ops.dense_backward(
        x, w, ops.dense_forward(x, w, bias, "tanh"), values(44, ROWS, 150), "tanh")
    jobs["sgd_update"] = optimizer(ops.sgd_update, 1, learning_rate=0.01, momentum=0.9)
    jobs["adagrad_update"] = optimizer(ops.adagrad_update, 1, (0,), learning_rate=0.01, epsilon=1e-7)
    jobs["rmsprop_update"] = optimizer(ops.rmsprop_update, 1, absent=2,
                                           learning_rate=1e-3, rho=0.9, epsilon=1e-7)
    jobs["adam_update"] = optimizer(ops.adam_update, 2, absent=1, **ADAM_LIKE)
    jobs["prepare_update"] = optimizer(prepared("adam_update"), 2, absent=1, **ADAM_LIKE)
    jobs["adamax_update"] = optimizer(ops.adamax_update, 2, **ADAM_LIKE)
    jobs["nadam_update"] = optimizer(ops.nadam_update, 2, **ADAM_LIKE)
    jobs["radam_update"] = optimizer(ops.radam_update, 2, **ADAM_LIKE)
    jobs["adadelta_update"] = optimizer(ops.adadelta_update, 2, learning_rate=1.0, rho=0.95, epsilon=1e-7)
    jobs["lion_update"] = optimizer(ops.lion_update, 1, learning_rate=1e-3, beta_1=0.9, beta_2=0.99)
    jobs["ftrl_update"] = optimizer(ops.ftrl_update, 2, (0,), learning_rate=0.1,
                                        l1_regularization_strength=0.01)
    pred, target = values(50, N), values(51, N)
    positive, positive_target = values(52, N, low=0.01, high=3.0), values(53, N, low=0.0, high=3.0)
    prob, bits = values(54, N, low=0.0, high=1.0), (values(55, N) > 0).astype(dtype)
    for name in ("mse", "mae", "huber", "log_cosh", "hinge", "squared_hinge"):
        jobs[name] = functools.partial(getattr(ops, name), pred, target)
    for name in ("mape", "msle", "poisson"):
        jobs[name] = functools.partial(getattr(ops, name), positive, positive_target)
    jobs["binary_cross_entropy"] = lambda: ops.binary_cross_entropy(prob, bits, label_smoothing=0.1)
    jobs["sigmoid_cross_entropy"] = lambda: ops.sigmoid_cross_entropy(pred, bits)
    rows_p, rows_t = probabilities(56, ROWS, COLS, dtype), probabilities(57, ROWS, COLS, dtype)
    for name in ("kl_divergence", "categorical_hinge", "cosine_similarity"):
        jobs[name] = functools.partial(getattr(ops, name), rows_p, rows_t)
    classes = labels(58, ROWS, COLS)
    jobs["categorical_cross_entropy"] = lambda: ops.categorical_cross_entropy(rows_p, classes)
    jobs["softmax_cross_entropy"] = lambda: ops.softmax_cross_entropy(x, rows_t, label_smoothing=0.1)
    jobs["dropout_forward"] = lambda: ops.dropout_forward(x, 0.3, 12345)
    jobs["dropout_backward"] = lambda: ops.dropout_backward(dy, ops.dropout_forward(x, 0.3, 9)[1], 0.3)
    rows_of_table = labels(59, ROWS, 37)  # repeated rows: sums whose order matters
    jobs["embedding_backward"] = lambda: ops.embedding_backward(dy, rows_of_table, 37)

    def batch_norm():
        moving_mean, moving_var = np.zeros(COLS, dtype), np.ones(COLS, dtype)
        out, mean, inv_std = ops.batch_norm_forward(x, gamma, beta, moving_mean, moving_var, True)
        return [out, mean, inv_std, moving_mean, moving_var, *ops.batch_norm_backward(x, gamma, mean, inv_std, dy)]
    jobs["batch_norm_forward"] = jobs["batch_norm_backward"] = batch_norm

    def layer_norm():
        out, mean, inv_std = ops.layer_norm_forward(x, gamma, beta)
        return [out, mean, inv_std, *ops.layer_norm_backward(x, gamma, mean, inv_std, dy)]
    jobs["layer_norm_forward"] = jobs["layer_norm_backward"] = layer_norm
    jobs["normalization_forward"] = lambda: ops.normalization_forward(x, gamma, variance)
    jobs["normalization_backward"] = lambda: ops.normalization_backward(dy, variance, invert=True)
    return jobs


def model_jobs():
    """{name: job}: each trains a model of its own from a fixed seed and returns its weights and
    predictions: a native Dense stack (epoch runs), and a graph with Add (the Python loop)."""
    rng = np.random.default_rng(60)
    x, y = rng.normal(size=(600, 20)).astype(np.float32), rng.integers(0, 5, 600)

    def sequential(seed):
        model = nnfast.Sequential([nnfast.layers.Dense(64, activation="relu", input_dim=20),
                                   nnfast.layers.BatchNormalization(), nnfast.layers.Dropout(0.2),
                                   nnfast.layers.Dense(5, activation="softmax")], seed=seed)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def functional(seed):
        inputs = nnfast.Input((20,))
        h = nnfast.layers.Dense(32, activation="tanh")(inputs)
        h = nnfast.layers.Add()([h, nnfast.layers.Dense(32)(inputs)])
        model = nnfast.Model(inputs, nnfast.layers.Dense(5, activation="softmax")(h), seed=seed)
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
        return model

    def train(make, seed):
        model = make(seed)
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
        return [*model.get_weights(), model.predict(x), np.array(history.history["loss"])]

    return {f"{make.__name__}:{seed}": (lambda make=make, seed=seed: train(make, seed))
            for make in (sequential, functional) for seed in (1, 2)}


def as_bits(result):
    """A job's result as a list of bytes (arrays, floats, tuples of them, None)."""
    if isinstance(result, (tuple, list)):
        return [b for r in result for b in as_bits(r)]
    if result is None:
        return [b"None"]
    if isinstance(result, np.ndarray):
        return [str(result.dtype).encode() + str(result.shape).encode() + result.tobytes()]
    return [np.float64(result).tobytes()]


JOBS = {**op_jobs(np.float32), **{f"{name}:float64": job for name, job in op_jobs(np.float64).items()},
        **model_jobs()}


@pytest.fixture(scope="module")
def serial():
    """Every job's bits, run one after the other on one nnfast thread."""
    with num_threads(1):
        return {name: as_bits(job()) for name, job in JOBS.items()}


def test_the_jobs_cover_every_op():
    public = {name for name, f in vars(ops).items() if inspect.isfunction(f) and f.__module__ == ops.__name__}
    covered = {name.split(":")[0] for name in JOBS}
    assert public <= covered, f"ops without a concurrency job: {sorted(public - covered)}"


def test_serial_results_do_not_depend_on_the_thread_setting(serial):
    with num_threads(4):
        for name, job in JOBS.items():
            assert as_bits(job()) == serial[name], name


@pytest.fixture
def thread_setting_churn():
    """Another thread changes set_num_threads (1 to 4) as fast as it can while the test runs."""
    stop = threading.Event()
    changes = [0]

    def churn():
        settings = [1, 3, 2, 4]
        while not stop.is_set():
            nnfast.set_num_threads(settings[changes[0] % len(settings)])
            changes[0] += 1
    before = nnfast.get_num_threads()
    thread = threading.Thread(target=churn, daemon=True)
    thread.start()
    yield changes
    stop.set()
    thread.join()
    nnfast.set_num_threads(before)


@pytest.mark.parametrize("threads", [2, 4, 8])
def test_threads_running_every_op_and_training_get_serial_bits(serial, thread_setting_churn, threads):
    names = list(JOBS)
    start = threading.Barrier(threads)

    def worker(index):
        order = np.random.default_rng(index).permutation(len(names))
        start.wait()
        return {names[i]: as_bits(JOBS[names[i]]()) for i in order}

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, range(threads)))
    assert thread_setting_churn[0] > threads  # the setting really changed during the run
    for index, result in enumerate(results):
        for name in names:
            assert result[name] == serial[name], f"thread {index}: {name} differs from the serial run"


# ---- one model, several threads ---------------------------------------------------------------------

def small_model():
    model = nnfast.Sequential([nnfast.layers.Dense(32, activation="relu", input_dim=10),
                               nnfast.layers.Dense(4, activation="softmax")], seed=7)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


XS = np.random.default_rng(70).normal(size=(256, 10)).astype(np.float32)
YS = np.random.default_rng(71).integers(0, 4, 256)


def test_predict_during_fit_waits_and_sees_the_trained_model():
    model = small_model()
    started, ended = threading.Event(), threading.Event()

    class Signal(nnfast.callbacks.Callback):
        def on_train_begin(self, logs=None):
            started.set()

        def on_train_end(self, logs=None):
            ended.set()

    def predict():
        started.wait()
        out = model.predict(XS)
        return out, ended.is_set()

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(predict)
        model.fit(XS, YS, batch_size=8, epochs=60, verbose=0, callbacks=[Signal()])
        out, fit_had_ended = future.result()
    assert fit_had_ended
    trained = small_model()
    trained.fit(XS, YS, batch_size=8, epochs=60, verbose=0)
    assert np.array_equal(out, trained.predict(XS))


@pytest.mark.parametrize("readers", [1, 3])
def test_predictions_during_training_are_never_torn(readers):
    """Readers predict while a thread takes single steps: each prediction is the model's after
    some whole number of steps."""
    steps = 60
    reference, snapshots = small_model(), set()
    snapshots.add(reference.predict(XS).tobytes())
    for i in range(steps):
        reference.train_on_batch(XS[i % 8 * 32:(i % 8 + 1) * 32], YS[i % 8 * 32:(i % 8 + 1) * 32])
        snapshots.add(reference.predict(XS).tobytes())
    model, done = small_model(), threading.Event()

    def train():
        for i in range(steps):
            model.train_on_batch(XS[i % 8 * 32:(i % 8 + 1) * 32], YS[i % 8 * 32:(i % 8 + 1) * 32])
        done.set()

    def read():
        seen = []
        while not done.is_set():
            seen.append(model.predict(XS, batch_size=64).tobytes())
        return seen

    with ThreadPoolExecutor(readers + 1) as pool:
        futures = [pool.submit(read) for _ in range(readers)]
        pool.submit(train).result()
        seen = [s for f in futures for s in f.result()]
    assert seen and all(s in snapshots for s in seen)
    assert model.predict(XS).tobytes() == reference.predict(XS).tobytes()


def test_the_training_thread_may_call_the_model_from_callbacks(tmp_path):
    """The lock is reentrant: callbacks on the training thread predict, save and set weights."""
    model = small_model()
    calls = []

    class Reentrant(nnfast.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            calls.append(self.model.predict(XS[:4]).shape)
            self.model.save(tmp_path / "m.npz")
            self.model.set_weights(self.model.get_weights())

    model.fit(XS, YS, epochs=3, verbose=0, callbacks=[Reentrant(), nnfast.callbacks.ModelCheckpoint(
        str(tmp_path / "c.npz"))])
    assert calls == [(4, 4)] * 3
    assert np.array_equal(nnfast.load_model(tmp_path / "m.npz").predict(XS), model.predict(XS))


def test_set_weights_from_another_thread_waits_for_fit():
    model = small_model()
    zeros = [np.zeros_like(w) for w in model.get_weights()]
    started = threading.Event()

    class Signal(nnfast.callbacks.Callback):
        def on_train_begin(self, logs=None):
            started.set()

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(lambda: (started.wait(), model.set_weights(zeros)))
        model.fit(XS, YS, batch_size=8, epochs=60, verbose=0, callbacks=[Signal()])
        future.result()
    assert all(not w.any() for w in model.get_weights())  # set after fit, not torn into it
