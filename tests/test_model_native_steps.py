"""fit's native epoch loop (DenseStackStep.run_steps: whole batches gathered and trained in C++,
used when nothing in Python needs to see each batch) against the per-step paths, bit for bit, and
run_steps' own checks of what it is given."""
import numpy as np
import pytest

import nnfast as nf
from nnfast.callbacks import Callback
from nnfast.layers import Dense
from nnfast.models import Sequential
from nnfast.models.native_step import NativeStep, NativeStepPlanner

from conftest import num_threads

pytestmark = pytest.mark.filterwarnings("error")


class PerBatch(Callback):
    """A per-batch hook: fit then runs one step per Python iteration."""

    def on_train_batch_end(self, batch, logs=None):
        pass


def data(n, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features))
    return x, (x[:, :classes] + 0.5 * rng.standard_normal((n, classes))).argmax(axis=1)


def model(loss, activation, dtype, optimizer, metrics=None):
    m = Sequential([Dense(7, activation="relu", input_dim=6), Dense(3, activation=activation)], seed=2, dtype=dtype)
    m.compile(optimizer=optimizer(), loss=loss, metrics=metrics)
    return m


OPTIMIZERS = [lambda: nf.optimizers.Adam(learning_rate=0.01), lambda: nf.optimizers.SGD(0.05, momentum=0.9),
              lambda: nf.optimizers.RMSprop(0.01), lambda: nf.optimizers.Adagrad(0.05)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss, activation, sparse", [
    ("sparse_categorical_crossentropy", "softmax", True), ("categorical_crossentropy", "softmax", False),
    ("mse", "sigmoid", False), ("binary_crossentropy", "sigmoid", False)])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("metrics", [None, ["accuracy"]])
def test_native_epochs_equal_the_per_step_loops_bit_for_bit(loss, activation, sparse, dtype, optimizer, metrics,
                                                            native_calls):
    # 601 samples at batch 2: 300 whole batches (more than one native call of 256 steps) and a
    # partial last one, over 2 epochs with a reshuffle in between
    x, labels = data(601)
    y = labels if sparse else np.eye(3)[labels]
    runs = []
    for mode in ("native epochs", "native steps", "python loop"):
        m = model(loss, activation, dtype, optimizer, metrics)
        m.fast_step = mode != "python loop"
        callbacks = [PerBatch()] if mode == "native steps" else None
        h = m.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=callbacks)
        runs.append((h.history, m.get_weights(), m.optimizer.iterations))
        if mode == "native epochs":  # the first step makes the optimizer state; then 256 + 43 steps and the
            # partial last batch, in the call that runs the last whole one
            assert sorted(set(native_calls)) == [0, 44, 45, 256] and sum(native_calls) == 300 + 301
        native_calls.clear()
    assert runs[0][0].keys() == ({"loss", "accuracy"} if metrics else {"loss"})
    for history, weights, iterations in runs[1:]:
        assert history == runs[0][0]
        assert iterations == runs[0][2] == 2 * 301
        for a, b in zip(weights, runs[0][1]):
            np.testing.assert_array_equal(a, b)


def test_non_finite_loss_in_the_middle_of_a_native_call_keeps_the_last_finite_weights():
    x, labels = data(400)
    m = Sequential([Dense(3, activation="linear", input_dim=6)], seed=0)
    m.compile(optimizer=nf.optimizers.SGD(learning_rate=1e17), loss="mse")
    twin = Sequential([Dense(3, activation="linear", input_dim=6)], seed=0)
    twin.compile(optimizer=nf.optimizers.SGD(learning_rate=1e17), loss="mse")
    with pytest.raises(FloatingPointError, match="the loss became") as native:
        m.fit(x, np.eye(3)[labels], batch_size=4, epochs=1, verbose=0)
    with pytest.raises(FloatingPointError, match="the loss became") as per_step:
        twin.fit(x, np.eye(3)[labels], batch_size=4, epochs=1, verbose=0, callbacks=[PerBatch()])
    assert str(native.value) == str(per_step.value)
    assert "step 1," not in str(native.value)  # it diverged after some finite steps
    assert m.optimizer.iterations == twin.optimizer.iterations > 0
    for a, b in zip(m.get_weights(), twin.get_weights()):
        assert np.isfinite(a).all()
        np.testing.assert_array_equal(a, b)


def ready_step(batch=4):
    x, labels = data(40)
    m = model("sparse_categorical_crossentropy", "softmax", "float64", OPTIMIZERS[0])
    m.fit(x[:batch], labels[:batch], batch_size=batch, epochs=1, verbose=0)  # makes the optimizer state
    return m, m.native_planner.step(m.optimizer, batch).call, x, labels


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", ["binary_crossentropy", "mse"])
@pytest.mark.parametrize("thresholds", [(0.5,), (0.3, 0.3)])
@pytest.mark.parametrize("class_weight", [None, {0: 1.0, 1: 3.0}])
def test_binary_accuracy_counted_natively_equals_the_python_loop(dtype, loss, thresholds, class_weight,
                                                                  native_calls):
    # one sigmoid output: C++ counts target == (output > threshold), so fit keeps its native runs
    x, labels = data(601)
    y = (labels == 1).astype(dtype)
    runs = []
    for fast in (True, False):
        m = Sequential([Dense(7, activation="relu", input_dim=6), Dense(1, activation="sigmoid")], seed=2,
                       dtype=dtype)
        metrics = [nf.metrics.BinaryAccuracy(name=f"acc{i}", threshold=t) for i, t in enumerate(thresholds)]
        m.compile(optimizer=nf.optimizers.Adam(learning_rate=0.01), loss=loss, metrics=metrics)
        m.fast_step = fast
        h = m.fit(x, y, batch_size=2, epochs=2, verbose=0, class_weight=class_weight)
        runs.append((h.history, m.get_weights()))
        assert (sum(native_calls) == 300 + 301) == fast  # the partial batches run natively too
        native_calls.clear()
    assert runs[0][0] == runs[1][0]
    assert 0.5 < runs[0][0]["acc0"][-1] < 1.0
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_mixed_binary_thresholds_or_outputs_keep_the_python_metrics(native_calls):
    x, labels = data(40)
    for outputs, thresholds in ((1, (0.5, 0.4)), (3, (0.5,))):
        m = Sequential([Dense(outputs, activation="sigmoid", input_dim=6)], seed=2)
        m.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[nf.metrics.BinaryAccuracy(name=f"acc{i}", threshold=t) for i, t in enumerate(thresholds)])
        m.fit(x, np.eye(3)[labels][:, :outputs], batch_size=4, verbose=0)
        assert sum(native_calls) == 0


def test_run_steps_rejects_bad_arguments_before_any_update():
    m, step, x, labels = ready_step()
    before = m.get_weights()
    order = np.arange(40, dtype=np.int64)
    losses = np.empty(10)
    bad = [
        (dict(order=order[::-1].copy() * 2), ValueError, "order must hold indices in"),
        (dict(order=order.astype(np.int32)), ValueError, "order must be a 1-D int64"),
        (dict(order=list(order)), TypeError, "order must be a numpy.ndarray"),
        (dict(labels=np.where(labels == 2, 3, labels)), ValueError, "labels must be class indices"),
        (dict(labels=labels[:-1]), ValueError, "one entry per sample"),
        (dict(x=x[:, :5].copy()), ValueError, "x must have shape"),
        (dict(x=x.astype(np.float32)), TypeError, "x must have the model's dtype"),
        (dict(x=np.asfortranarray(x)), ValueError, "x must be C-contiguous"),
        (dict(count=11), ValueError, "whole batches of order"),
        (dict(first=-1), ValueError, "whole batches of order"),
        (dict(losses=np.empty(3)), ValueError, "losses must be"),
        (dict(losses=np.empty(10, np.float32)), ValueError, "losses must be"),
        (dict(step=0), ValueError, "step"),
        (dict(correct=np.empty(9, np.int64)), ValueError, "correct must have at least"),
        (dict(correct=np.empty(10)), ValueError, "correct must be a 1-D int64"),
        # a partial last batch: fewer samples than a batch (4), within order, and an entry for its loss
        (dict(count=9, tail=4), ValueError, "tail must be"),
        (dict(count=9, tail=-1), ValueError, "tail must be"),
        (dict(tail=1), ValueError, "tail must be"),
        (dict(count=9, tail=3, losses=np.empty(9)), ValueError, "losses must be"),
        (dict(count=9, tail=3, correct=np.empty(9, np.int64)), ValueError, "correct must have at least"),
    ]
    for change, error, message in bad:
        args = dict(x=x, labels=labels, order=order, first=0, count=10, lr=0.01, step=5, losses=losses,
                    correct=np.empty(10, np.int64), tail=0)
        args.update(change)
        with pytest.raises(error, match=message):
            step.run_steps(args["x"], args["labels"], args["order"], args["first"], args["count"], args["lr"],
                           args["step"], args["losses"], args["correct"], tail=args["tail"])
        assert step.last_updates == 0
        for a, b in zip(before, m.get_weights()):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="binary_threshold needs one output"):  # 3 outputs, labels
        step.run_steps(x, labels, order, 0, 10, 0.01, 5, losses, np.empty(10, np.int64), None, 0.5)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_as_a_native_call_returns_still_counts_its_steps():
    x, labels = data(400)
    interrupted = model("sparse_categorical_crossentropy", "softmax", "float64", OPTIMIZERS[0])
    interrupted.fit(x[:4], labels[:4], batch_size=4, epochs=1, verbose=0, shuffle=False)  # optimizer state
    real_step = NativeStepPlanner.step

    class InterruptedOnReturn:
        def __init__(self, step):
            self.step = step

        def run_steps(self, *args):
            self.step.run_steps(*args)
            raise KeyboardInterrupt  # as if Ctrl-C were handled right after the native call

        @property
        def last_updates(self):
            return self.step.last_updates

    def step(planner, optimizer, batch, weighted=False):
        made = real_step(planner, optimizer, batch, weighted)
        return NativeStep(InterruptedOnReturn(made.call), made.update, made.output)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(NativeStepPlanner, "step", step)
        interrupted.fit(x, labels, batch_size=4, epochs=1, verbose=0, shuffle=False)  # returns: interrupted
    assert interrupted.optimizer.iterations == 1 + 100  # the first fit's step, then one native call
    twin = model("sparse_categorical_crossentropy", "softmax", "float64", OPTIMIZERS[0])
    twin.fit(x[:4], labels[:4], batch_size=4, epochs=1, verbose=0, shuffle=False)
    twin.fit(x, labels, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(interrupted.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_run_steps_trains_on_the_rows_the_order_names():
    m, step, x, labels = ready_step()
    order = np.random.default_rng(1).permutation(40).astype(np.int64)
    losses = np.empty(3)
    correct = np.empty(3, np.int64)
    assert step.run_steps(x, labels, order, 2, 3, 0.01, 2, losses, correct) == 3 == step.last_updates
    twin, twin_step, _, _ = ready_step()
    for i in range(3):
        rows = order[(2 + i) * 4:(3 + i) * 4]
        assert twin_step.run(x[rows], labels[rows], 0.01, 2 + i, False) == losses[i]
        assert twin_step.last_updates == 1
        logits = twin.native_planner.step(twin.optimizer, 4).output
        assert correct[i] == np.count_nonzero(logits.argmax(axis=1) == labels[rows])
    for a, b in zip(m.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_native_epochs_give_the_same_bits_on_1_and_2_threads():
    x, labels = data(3000, features=40)  # big enough batches that the gather and GEMMs use 2 threads
    weights = []
    for n in (1, 2):
        before = nf.get_num_threads()
        nf.set_num_threads(n)
        try:
            m = Sequential([Dense(300, activation="relu", input_dim=40), Dense(3, activation="softmax")], seed=5)
            m.compile(optimizer=nf.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["acc"])
            h = m.fit(x, labels, batch_size=128, epochs=2, verbose=0)
        finally:
            nf.set_num_threads(before)
        weights.append((h.history, m.get_weights()))
    assert weights[0][0] == weights[1][0]
    for a, b in zip(weights[0][1], weights[1][1]):
        np.testing.assert_array_equal(a, b)


needs_threads = pytest.mark.skipif(not nf.config()["openmp"], reason="built without OpenMP: one thread only")


def record_run_steps(monkeypatch, read):
    """The list that NativeStep.run_steps, patched, appends read(step's call, its probe_steps before
    the call) to after each call."""
    records = []
    original = NativeStep.run_steps

    def spy(self, *args):
        before = self.call.probe_steps
        ran = original(self, *args)
        records.append(read(self.call, before))
        return ran

    monkeypatch.setattr(NativeStep, "run_steps", spy)
    return records


PROBE = 2 * 3 * 3  # steps of a probe: 3 blocks of 3 steps each way


def probed(steps, chose):
    """Whether a run that probed from scratch and chose `chose` threads took `steps` probe steps: one
    probe, and a confirming one when the first found one thread faster (ThreadChoice); a choice
    of one thread always has both."""
    return steps == 2 * PROBE if chose == 1 else steps in (PROBE, 2 * PROBE)


def wide_model():
    """A 40-300-3 classifier with Adam: wide enough that its step splits over two threads."""
    m = Sequential([Dense(300, activation="relu", input_dim=40), Dense(3, activation="softmax")], seed=5)
    m.compile(optimizer=nf.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return m


@needs_threads
def test_native_runs_time_their_first_steps_and_settle_on_a_thread_count(monkeypatch):
    # the first steps run blocks of 3 on all threads and on one in turn (the first of a block untimed:
    # it finds the data where the other count left it), the faster count is kept and reported (one
    # thread only after a second, confirming probe), and the choice lasts across run_steps calls (a
    # probe per model, not per call: the machine's noise may add a re-probe, never one per call); the
    # weights are those of a 1-thread run whatever it chose
    records = record_run_steps(monkeypatch, lambda call, before: (call.last_threads, call.probe_steps))
    x, labels = data(3000, features=40)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            m = wide_model()
            m.fit(x, labels, batch_size=16, epochs=5, verbose=0)
        runs.append(([t for t, _ in records], [p for _, p in records], m.get_weights()))
        records.clear()
    assert set(runs[0][0]) == {1} and set(runs[0][1]) == {0}  # one thread: nothing to probe
    calls = len(runs[1][0])
    assert calls == 5 and set(runs[1][0]) <= {1, 2}
    assert probed(runs[1][1][0], runs[1][0][0])  # in the first call
    assert runs[1][1][-1] <= PROBE * 3 < PROBE * calls  # not a probe per call
    for a, b in zip(runs[0][2], runs[1][2]):
        np.testing.assert_array_equal(a, b)


@needs_threads
def test_fit_calls_in_a_loop_keep_a_choice_of_all_threads(monkeypatch):
    # each fit call compiles its step afresh; a step of the same shapes takes over the last one's
    # choice when that settled on all threads (adopt_timing), so fit(epochs=1) in a loop probes once,
    # not in every call; a choice of one thread is probed again by each call (the host may have
    # given the cores back); another batch size probes for itself; 1 thread's weights either way.
    # A probe that finds one thread faster is confirmed by a second (probed)
    probes = record_run_steps(monkeypatch,
                              lambda call, before: (id(call), before, call.probe_steps, call.last_threads))
    x, labels = data(1600, features=40)
    runs = []
    for n in (2, 1):
        with num_threads(n):
            m = wide_model()
            probes.clear()
            for _ in range(4):
                m.fit(x, labels, batch_size=16, epochs=1, verbose=0)
            calls = list(probes)
            m.fit(x, labels, batch_size=32, epochs=1, verbose=0)
        runs.append((calls, probes[len(calls):], m.get_weights()))
    calls, other_batch, _ = runs[0]
    assert len({step for step, *_ in calls}) == 4  # a step compiled per fit call
    assert calls[0][1] == 0 and probed(calls[0][2], calls[0][3])  # the first call probes
    for (_, _, last, chose), (_, before, after, now) in zip(calls, calls[1:]):
        if chose == 2:  # taken over: the count goes on (a slow spell of the host may add a re-probe)
            assert before == last and before <= after <= before + 2 * PROBE
        else:  # probed again
            assert before == 0 and probed(after, now)
    assert other_batch[0][1] == 0 and probed(other_batch[0][2], other_batch[0][3])  # it probes for itself
    assert {count for _, before, after, _ in runs[1][0] + runs[1][1] for count in (before, after)} == {0}
    for a, b in zip(runs[0][2], runs[1][2]):
        np.testing.assert_array_equal(a, b)


@needs_threads
def test_a_native_step_probes_again_when_the_thread_setting_changes(monkeypatch):
    probes = record_run_steps(monkeypatch, lambda call, before: (id(call), call.probe_steps))

    class Threads(Callback):  # epochs on 2, 1 and 2 threads
        def on_epoch_begin(self, epoch, logs=None):
            nf.set_num_threads((2, 1, 2)[epoch])

    x, labels = data(800, features=40)
    m = Sequential([Dense(64, activation="relu", input_dim=40), Dense(3, activation="softmax")], seed=5)
    m.compile(optimizer=nf.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    with num_threads(2):
        m.fit(x, labels, batch_size=16, epochs=3, verbose=0, callbacks=[Threads()])
    assert len({step for step, _ in probes}) == 1  # one native step for the whole fit
    # the first epoch probed; the 1-thread one did not; the last probed again
    first, second, third = (count for _, count in probes)
    assert first >= 12 and second == first and third >= second + 12


@pytest.mark.parametrize("verbose", [1, 2])
def test_the_progress_bar_keeps_native_runs_and_shows_every_step(verbose, capsys, native_calls):
    x, labels = data(601)
    runs = []
    for v in (0, verbose):
        m = model("sparse_categorical_crossentropy", "softmax", "float32", OPTIMIZERS[0], ["accuracy"])
        h = m.fit(x, labels, batch_size=2, epochs=2, verbose=v)
        runs.append((h.history, m.get_weights()))
    half = len(native_calls) // 2
    # native with the bar too; without it the partial batches run in the same calls, with it on their own
    assert sum(native_calls[:half]) == 601 and sum(native_calls[half:]) == 599
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "301/301" in out
    assert f"accuracy: {runs[1][0]['accuracy'][-1]:.4f}" in out


def test_a_changed_learning_rate_reaches_the_cached_native_step():
    x, labels = data(64)
    runs = []
    for fast in (True, False):
        m = model("sparse_categorical_crossentropy", "softmax", "float64", OPTIMIZERS[0])
        m.fast_step = fast
        for lr in (0.01, 0.1, 0.02):  # the same optimizer state at a new rate each time
            m.optimizer.learning_rate = lr
            for i in range(3):
                m.train_on_batch(x[i * 8:(i + 1) * 8], labels[i * 8:(i + 1) * 8])
        # a callback changes the rate between the native runs of one fit
        schedule = nf.callbacks.LearningRateScheduler(lambda epoch: 0.05 / (1 + epoch))
        m.fit(x, labels, batch_size=8, epochs=3, verbose=0, callbacks=[schedule])
        m.optimizer.learning_rate = lambda t: 0.05 / (1 + t)  # a schedule: the per-step path
        m.fit(x, labels, batch_size=8, epochs=1, verbose=0)
        runs.append((m.get_weights(), m.native_planner))
    (fast_weights, fast_planner), (slow_weights, slow_planner) = runs
    assert fast_planner is not None and fast_planner.batch_sizes == [8] and slow_planner is None
    for a, b in zip(fast_weights, slow_weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_gathered_rows_give_the_per_step_loops_bits(dtype, threads):
    """The native gather copies 8 shuffled rows side by side, a cache line of each in turn
    (model/dense_stack.cpp, copy_rows): batches of 13 (a group of 8 and one of 5, and a ragged last
    batch) of 37 features (whole lines and a tail in either dtype), with one-hot targets and sample
    weights, train to the Python loop's bits."""
    x, labels = data(200, features=37)
    y = np.eye(3)[labels]
    w = np.random.default_rng(3).uniform(0.5, 2.0, len(x))
    runs = []
    for native in (True, False):
        m = Sequential([Dense(7, activation="relu", input_dim=37), Dense(3, activation="softmax")], seed=2,
                       dtype=dtype)
        m.compile(optimizer=OPTIMIZERS[0](), loss="categorical_crossentropy")
        m.fast_step = native
        with num_threads(threads):
            h = m.fit(x, y, batch_size=13, epochs=2, sample_weight=w, verbose=0)
        runs.append((h.history, m.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_layer_and_batch_buffers_start_a_cache_line(dtype):
    # The kernels' AVX-512 row loads and stores split no cache line (nnfast.utils.aligned): NumPy
    # alone places a large array 16 bytes into one.
    from nnfast.models.batches import BatchBuffers
    layer = Dense(257)
    buffers = [layer.buffer(key, (rows, 257), dtype) for key in ("y", "dx", "mask") for rows in (1, 37, 300)]
    x, y = data(300, features=65)
    batch = BatchBuffers([x, x[:, :7].astype(dtype)], y, 37)
    buffers += batch.x + [batch.y]
    assert all(b.ctypes.data % 64 == 0 and b.flags.c_contiguous for b in buffers)
    assert buffers[0] is layer.buffer("y", (1, 257), dtype)  # made once, then reused
