"""The one-call step's dead units (model/dead_units.h): a relu unit of the first Dense layer proven
dead over the data set (its output +0 for every sample while its weights kept their bits) is set
to +0 instead of computed. Checked against fit's per-step path (one native step per batch, which
proves nothing), bit for bit, with units that die, units proven dead and then revived by a change
of weights or of the data, units whose weights still move with no gradient (momentum), on float32
and float64, awkward sizes and 1 and 2 threads."""
import numpy as np
import pytest

from nnfast.callbacks import Callback
from nnfast.layers import Dense
from nnfast.models import Sequential
from nnfast.models.native_step import NativeRuns
from nnfast.optimizers import SGD, Adam

from conftest import num_threads

pytestmark = pytest.mark.filterwarnings("error")


class PerBatch(Callback):
    """A per-batch hook: fit then runs one native step per batch, outside run_steps."""

    def on_train_batch_end(self, batch, logs=None):
        pass


@pytest.fixture
def proven(monkeypatch):
    """The most units any native run of the test proved dead, as fit's calls return."""
    most = [0]
    original = NativeRuns.run

    def spy(self, x, y, order, first, full_steps, batch_size, weights=None, **kwargs):
        losses = original(self, x, y, order, first, full_steps, batch_size, weights, **kwargs)
        step = self.planner.step(self.optimizer, batch_size, weighted=weights is not None)
        if step is not None:
            most[0] = max(most[0], step.call.proven_dead_units)
        return losses

    monkeypatch.setattr(NativeRuns, "run", spy)
    return most


def data(n, features, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, features))
    return x, (x[:, :3] + 0.3 * rng.standard_normal((n, 3))).argmax(axis=1)


def model(features, units, dtype, optimizer, dead_bias):
    """features-units(relu)-3 with every third unit's bias at dead_bias: those units start dead
    (x lies in [0, 1), the weights are small) and, with zero gradients, keep their bits."""
    m = Sequential([Dense(units, activation="relu", input_dim=features), Dense(3, activation="softmax")],
                   seed=3, dtype=dtype)
    m.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    w, b, w2, b2 = m.get_weights()
    b[::3] = dead_bias
    m.set_weights([w, b, w2, b2])
    return m


def fit_both(make, x, y, batch, epochs, callbacks=()):
    """(history, weights) of fit's native epochs and of its per-step path, on the same model."""
    runs = []
    for per_step in (False, True):
        m = make()
        h = m.fit(x, y, batch_size=batch, epochs=epochs, verbose=0,
                  callbacks=list(callbacks) + ([PerBatch()] if per_step else []))
        runs.append((h.history, m.get_weights()))
    return runs


def assert_same_bits(runs):
    (h0, w0), (h1, w1) = runs
    assert h0 == h1
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


OPTIMIZERS = {"adam": lambda: Adam(learning_rate=0.01), "sgd": lambda: SGD(0.05, momentum=0.9)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("features, units", [(9, 7), (17, 65), (65, 17), (7, 1)])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_units_proven_dead_give_the_per_step_bits(dtype, features, units, threads, optimizer, proven):
    # 203 samples at batch 8: 25 whole batches and a partial one of 3, 4 epochs
    x, y = data(203, features)
    make = lambda: model(features, units, dtype, OPTIMIZERS[optimizer], -50.0)  # noqa: E731
    with num_threads(threads):
        runs = fit_both(make, x, y, 8, 4)
    assert_same_bits(runs)
    assert proven[0] >= (units + 2) // 3  # every third unit at least


@pytest.mark.parametrize("through", ["bias", "weights"])
def test_a_proven_unit_revived_by_new_weights_is_computed_again(through, proven):
    # after 3 epochs the dead units are proven; a callback then gives them a large bias, or a large
    # weight on the first feature (x[:, 0] > 5/6 then makes them fire), and from there the native
    # epochs must compute them (their outputs are no longer +0)
    class Revive(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                w, b, w2, b2 = self.model.get_weights()
                if through == "bias":
                    b[::3] = 5.0
                else:
                    w[0, ::3] = 60.0
                self.model.set_weights([w, b, w2, b2])

    x, y = data(203, 9)
    make = lambda: model(9, 12, "float32", OPTIMIZERS["adam"], -50.0)  # noqa: E731
    runs = fit_both(make, x, y, 8, 5, callbacks=[Revive()])
    assert_same_bits(runs)
    assert proven[0] >= 4
    w, b = runs[0][1][:2]
    assert (np.maximum(x.astype(np.float32) @ w + b, 0)[:, ::3] > 0).any()  # they fire again


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_silent_unit_whose_weights_still_move_is_not_proven(dtype, threads, proven):
    # unit 0 is silent (bias -2, zero weights) but carries a momentum of 0.04 on its first weight:
    # with no gradient its weight keeps growing, by 0.04 * 0.99**t at step t, and passes 2.01 after
    # about 70 steps (an epoch is 26), when it fires on the samples whose x[:, 0] is near 1. A proof
    # that missed the update's changes would prove it dead within two epochs (once every sample was
    # seen after its window opened) and skip it from there.
    class Drift(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                w, b, w2, b2 = self.model.get_weights()
                w[:, 0] = 0.0
                b[0] = -2.0
                self.model.set_weights([w, b, w2, b2])
                velocity = self.model.optimizer.slots["momentums"][0]
                assert velocity.shape == w.shape
                velocity[:, 0] = 0.0
                velocity[0, 0] = 0.04

    x, y = data(203, 9)
    make = lambda: model(9, 12, dtype, lambda: SGD(0.05, momentum=0.99), -50.0)  # noqa: E731
    with num_threads(threads):
        runs = fit_both(make, x, y, 8, 5, callbacks=[Drift()])
    assert_same_bits(runs)
    assert proven[0] >= 3  # units 3, 6 and 9
    w, b = runs[0][1][:2]
    assert w[0, 0] > 2.0
    assert b[0] != -2.0  # unit 0 fired: its bias had a gradient


def test_one_revived_unit_among_many_proven_is_computed_again(proven):
    # 13 of 16 units proven dead, so the forward computes the 3 others from their gathered columns;
    # a callback then revives one proven unit through its weights, and the step's gathered columns
    # must include it (4 units, still a smaller product)
    class Revive(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                w, b, w2, b2 = self.model.get_weights()
                w[0, 5] = 60.0
                self.model.set_weights([w, b, w2, b2])

    def make():
        m = model(9, 16, "float32", OPTIMIZERS["adam"], -50.0)
        w, b, w2, b2 = m.get_weights()
        b[:13] = -50.0
        m.set_weights([w, b, w2, b2])
        return m

    x, y = data(203, 9)
    runs = fit_both(make, x, y, 8, 5, callbacks=[Revive()])
    assert_same_bits(runs)
    assert proven[0] >= 13
    w, b = runs[0][1][:2]
    assert (x.astype(np.float32) @ w[:, 5] + b[5] > 0).any()  # unit 5 fires again


def test_a_new_fit_call_proves_afresh_on_changed_data(proven):
    # a unit proven dead on x is alive on the changed x of the next fit call (in place, same array)
    x, y = data(203, 9)
    results = [fit_twice(x, y, per_step) for per_step in (False, True)]
    assert_same_bits(results)
    assert proven[0] >= 1


def fit_twice(x, y, per_step):
    """(history, weights) of a fit on a copy of x, then of one on the same array changed in place."""
    xs = x.copy()
    m = model(9, 12, "float32", OPTIMIZERS["adam"], -3.0)
    callbacks = [PerBatch()] if per_step else []
    m.fit(xs, y, batch_size=8, epochs=3, verbose=0, callbacks=callbacks)
    xs *= 40.0  # now x w + b > 0 for some samples of the units that were dead
    h = m.fit(xs, y, batch_size=8, epochs=2, verbose=0, callbacks=callbacks)
    return h.history, m.get_weights()


def test_no_unit_is_proven_with_an_l2_penalty_or_another_activation(proven):
    # the same units at -50 that the tests above see proven
    x, y = data(203, 9)
    for activation, penalty in (("tanh", None), ("relu", "l2")):
        m = Sequential([Dense(12, activation=activation, input_dim=9, kernel_regularizer=penalty),
                        Dense(3, activation="softmax")], seed=3)
        m.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")
        w, b, w2, b2 = m.get_weights()
        b[::3] = -50.0
        m.set_weights([w, b, w2, b2])
        m.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert proven[0] == 0


@pytest.mark.parametrize("threads", [1, 2])
def test_a_unit_that_fires_on_one_sample_is_never_proven(threads, proven):
    # units that only the sample with x[0] = 0.99 excites: they fire once an epoch, at a different
    # step each epoch, so no window covers every sample, and a proof that did not wait for them all
    # would set that sample's output to +0
    x, y = data(203, 9)
    x[:, 0] *= 0.5
    x[101, 0] = 0.99

    def make():
        m = model(9, 12, "float32", OPTIMIZERS["adam"], -50.0)
        w, b, w2, b2 = m.get_weights()
        w[:, 1::3] = 0.0
        w[0, 1::3] = 1.0
        b[1::3] = -0.9
        m.set_weights([w, b, w2, b2])
        return m

    with num_threads(threads):
        runs = fit_both(make, x, y, 8, 6)
    assert_same_bits(runs)
    assert proven[0] == 4  # the units at -50 only
