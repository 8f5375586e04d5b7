"""Sequential: the Keras-like model on the native kernels, against the same model on the NumPy
reference, plus the API's behaviour (losses, metrics, callbacks, save/load, bad input)."""
import re

import numpy as np
import pytest

import nnfast as nf
from nnfast import datasets
from nnfast.callbacks import Callback
from nnfast.layers import Activation, Dense, Dropout
from nnfast.models import Sequential, load_model

pytestmark = pytest.mark.filterwarnings("error")

OPTIMIZERS = {
    "sgd": lambda: nf.optimizers.SGD(learning_rate=0.1),
    "momentum": lambda: nf.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "adagrad": lambda: nf.optimizers.Adagrad(learning_rate=0.05),
    "rmsprop": lambda: nf.optimizers.RMSprop(learning_rate=0.01, centered=True),
    "adam": lambda: nf.optimizers.Adam(learning_rate=0.01, amsgrad=True),
    "adamw": lambda: nf.optimizers.AdamW(learning_rate=0.01),
    "torch-adam": lambda: nf.optimizers.Adam(learning_rate=0.01, weight_decay=0.01, convention="torch"),
}


def classification_data(n=96, features=7, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features))
    y = (x[:, :classes] + 0.3 * rng.standard_normal((n, classes))).argmax(axis=1)
    return x, y


def mlp(backend, dtype, classes=4, dropout=0.0, seed=3, features=7):
    layers = [Dense(9, activation="relu", input_dim=features), Dense(6, activation="tanh")]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(classes, activation="softmax"))
    return Sequential(layers, backend=backend, dtype=dtype, seed=seed)


@pytest.mark.parametrize("dtype, rtol", [("float32", 1e-4), ("float64", 1e-10)])
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_native_and_reference_backends_follow_the_same_trajectory(opt, dtype, rtol):
    x, y = classification_data()
    histories, weights = [], []
    for backend in ("native", "reference"):
        model = mlp(backend, dtype, dropout=0.25)
        model.compile(optimizer=OPTIMIZERS[opt](), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, batch_size=10, epochs=4, verbose=0, validation_split=0.2)
        histories.append(h.history)
        weights.append(model.get_weights())
    assert histories[0].keys() == {"loss", "accuracy", "val_loss", "val_accuracy"} == histories[1].keys()
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=rtol)
    np.testing.assert_allclose(histories[0]["val_loss"], histories[1]["val_loss"], rtol=rtol)
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=100 * rtol, atol=100 * rtol)
    assert histories[0]["loss"][-1] < histories[0]["loss"][0]


@pytest.mark.parametrize("loss, activation, targets", [
    ("mse", "sigmoid", "dense"), ("mae", "linear", "dense"), ("binary_crossentropy", "sigmoid", "binary"),
    ("categorical_crossentropy", "softmax", "onehot"), ("sparse_categorical_crossentropy", "softmax", "sparse"),
    ("categorical_crossentropy", "sigmoid", "onehot"),
])
def test_every_loss_trains_and_agrees_across_backends(loss, activation, targets):
    x, labels = classification_data(n=60, classes=3)
    y = {"dense": np.eye(3)[labels] * 0.8 + 0.1, "binary": np.eye(3)[labels], "onehot": np.eye(3)[labels],
         "sparse": labels}[targets]
    results = []
    for backend in ("native", "reference"):
        model = Sequential([Dense(8, activation="tanh", input_dim=7), Dense(3, activation=activation)],
                           backend=backend, dtype="float64", seed=1)
        model.compile(optimizer=nf.optimizers.Adam(learning_rate=0.02), loss=loss, metrics=["mae", "acc"])
        h = model.fit(x, y, batch_size=16, epochs=15, verbose=0)
        results.append((h.history, model.evaluate(x, y, return_dict=True)))
    (h0, e0), (h1, e1) = results
    np.testing.assert_allclose(h0["loss"], h1["loss"], rtol=1e-10)
    assert set(e0) == {"loss", "mae", "acc"}
    assert e0["loss"] == pytest.approx(e1["loss"], rel=1e-10)
    assert h0["loss"][-1] < 0.8 * h0["loss"][0]


def test_fused_softmax_cross_entropy_equals_the_unfused_path():
    x, labels = classification_data(n=40, classes=3)
    fused = Sequential([Dense(3, activation="softmax", input_dim=7)], dtype="float64", seed=5)
    plain = Sequential([Dense(3, activation="linear", input_dim=7), Activation("softmax")], dtype="float64", seed=5)
    results = []
    for model in (fused, plain):
        model.compile(optimizer=nf.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
        results.append(model.fit(x, labels, batch_size=8, epochs=3, verbose=0, shuffle=False).history["loss"])
    assert fused.layers[-1].fused_softmax and not plain.layers[-1].fused_softmax
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9)


def test_accuracy_resolves_like_keras_from_the_shapes():
    x, labels = classification_data(n=40, classes=3)
    cases = [(3, "softmax", "sparse_categorical_crossentropy", labels, nf.metrics.SparseCategoricalAccuracy),
             (3, "softmax", "categorical_crossentropy", np.eye(3)[labels], nf.metrics.CategoricalAccuracy),
             (1, "sigmoid", "binary_crossentropy", (labels == 0).astype(float), nf.metrics.BinaryAccuracy)]
    for units, act, loss, y, cls in cases:
        model = Sequential([Dense(units, activation=act, input_dim=7)], seed=0)
        model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
        result = model.evaluate(x, y, return_dict=True)
        assert isinstance(model._metrics[0], cls)
        pred = model.predict(x)
        if units == 1:
            expected = np.mean((pred[:, 0] > 0.5) == (y > 0.5))
        else:
            expected = np.mean(pred.argmax(1) == (y.argmax(1) if y.ndim == 2 else y))
        assert result["accuracy"] == pytest.approx(expected)


def test_parameters_live_in_one_arena_and_each_step_is_one_optimizer_call(monkeypatch):
    x, y = classification_data()
    model = mlp("native", "float32")
    model.fast_step = False  # the general loop (the one-call step makes the same call from C++)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    for w in model.weights:
        assert np.shares_memory(w, model._params)
    calls = []
    real = nf.ops.adam_update
    monkeypatch.setattr(nf.ops, "adam_update", lambda *a, **k: (calls.append(len(a[0])), real(*a, **k)))
    real_prepare = nf.ops.prepare_update  # the call the optimizer makes from its second step on

    def prepare(*args):
        call = real_prepare(*args)
        return lambda params, grads, step: (calls.append(len(params)), call(params, grads, step))
    monkeypatch.setattr(nf.ops, "prepare_update", prepare)
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    assert calls == [len(model.weights)] * 6  # 96 samples / 32 = 3 steps per epoch, one call each
    slots = model.optimizer.slots["momentums"] if "momentums" in model.optimizer.slots else None
    if slots:
        assert all(np.shares_memory(s, slots[0].base if slots[0].base is not None else slots[0]) for s in slots)


def test_predict_evaluate_and_summary(capsys):
    x, y = classification_data(n=50)
    model = mlp("native", "float32")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    p = model.predict(x, batch_size=7)
    assert p.shape == (50, 4) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    loss, acc = model.evaluate(x, y)
    assert loss > 0 and 0 <= acc <= 1
    model.summary()
    out = capsys.readouterr().out
    assert "Total params: " + str(model.count_params()) in out and f"{model.layers[0].name} (Dense)" in out
    assert re.fullmatch(r"dense(_\d+)?", model.layers[0].name)  # Keras's names: dense, dense_1, ...
    assert model.count_params() == 7 * 9 + 9 + 9 * 6 + 6 + 6 * 4 + 4


def test_a_model_without_an_input_shape_summarizes_as_unbuilt(capsys):
    # Keras 3: "?" shapes, "0 (unbuilt)" counts, totals 0; count_params raises until the model is built
    model = Sequential([Dense(16, activation="relu"), Dropout(0.2), Dense(1)])
    model.summary()
    out = capsys.readouterr().out
    assert out.count(" ? ") == 3 and out.count("0 (unbuilt)") == 3
    assert " Total params: 0 (0.00 B)" in out and " Trainable params: 0 (0.00 B)" in out
    for counted in (model, model.layers[0]):
        with pytest.raises(ValueError, match="count_params needs .* built"):
            counted.count_params()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 3)), np.ones(8), verbose=0)
    model.summary()
    out = capsys.readouterr().out
    assert "unbuilt" not in out and model.count_params() == 3 * 16 + 16 + 16 + 1
    assert f"Trainable params: {model.count_params()} " in out


def test_calling_a_model_or_a_layer_with_training_is_refused_naming_what_to_use():
    import nnfast.keras as nk
    model = nk.Sequential([nk.Input((3,)), nk.layers.Dense(2)])
    for given in (np.zeros((2, 3)), nk.Input((3,))):  # model(x) and a nested model
        with pytest.raises(NotImplementedError, match=r"calling a model, model\(x\), is not supported by nnfast: use "
                                                      r"model.predict\(x\)"):
            model(given)
    for argument in ({"training": True}, {"training": False}, {"mask": np.ones(3, bool)}):
        layer = nk.layers.Dropout(0.5)
        with pytest.raises(NotImplementedError, match=f"Dropout\\(...\\)\\(x, {next(iter(argument))}=...\\) is not "
                                                      "supported by nnfast"):
            layer(nk.Input((3,)), **argument)
        assert layer.node is None  # refused before it joined a graph
    assert nk.layers.Dense(4)(nk.Input((3,)), training=None).sample_shape == (4,)


def test_a_sequential_model_refuses_a_second_layer_of_one_name():
    model = Sequential([Dense(4, name="d", input_dim=3)])
    with pytest.raises(ValueError, match="layer names in a Sequential model must be unique: 'd' is already"):
        model.add(Dense(2, name="d"))
    with pytest.raises(ValueError, match="must be unique: 'e'"):
        Sequential([Dense(4, name="e"), Dropout(0.1), Dense(2, name="e")])
    assert [layer.name for layer in model.layers] == ["d"]  # the refused layer was not added


def test_train_on_batch_and_validation_split_takes_the_last_fraction():
    x, y = classification_data(n=50)
    model = mlp("native", "float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    loss, acc = model.train_on_batch(x[:10], y[:10])
    assert np.isfinite(loss) and 0 <= acc <= 1
    seen = []
    real = model._evaluate
    model._evaluate = lambda xv, yv, w, batch_size, **hooks: (seen.append(xv.copy()),
                                                              real(xv, yv, w, batch_size, **hooks))[1]
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.2, shuffle=True)
    np.testing.assert_array_equal(seen[0], x[40:])


def test_save_and_load_round_trip(tmp_path):
    x, y = classification_data()
    model = mlp("native", "float32", dropout=0.2)
    model.compile(optimizer=nf.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    h1 = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    h2 = loaded.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert h1.history == h2.history  # the dropout stream continues where it was saved
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_layer_configs_are_complete_so_loading_rebuilds_every_layer_as_it_was(tmp_path):
    from nnfast.layers import Activation, Dropout
    layers = [Dense(5, activation="tanh", use_bias=False, input_dim=7, name="hidden",
                    kernel_initializer=nf.initializers.RandomNormal(mean=0.5, stddev=0.2, seed=3),
                    bias_initializer="ones", kernel_regularizer=nf.regularizers.L1L2(l1=0.01, l2=0.02)),
              Dropout(0.25, seed=9), Activation("relu"), Dense(3, activation="softmax")]
    for layer in layers:
        twin = type(layer).from_config(layer.get_config())
        assert twin.get_config() == layer.get_config()
    dense = Dense.from_config(layers[0].get_config())
    assert isinstance(dense.kernel_initializer, nf.initializers.RandomNormal)
    assert dense.kernel_initializer.get_config() == {"mean": 0.5, "stddev": 0.2, "seed": 3}
    assert isinstance(dense.bias_initializer, nf.initializers.Ones)
    assert dense.kernel_regularizer.get_config() == {"l1": 0.01, "l2": 0.02}
    model = Sequential(layers, seed=1)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    x, y = classification_data(n=20, classes=3)
    assert loaded.evaluate(x, y) == model.evaluate(x, y)  # the regularizer came back: same penalty


def test_save_and_load_continue_training_identically(tmp_path):
    x, y = classification_data()
    model = mlp("native", "float32")
    model.compile(optimizer=nf.optimizers.RMSprop(learning_rate=0.01, momentum=0.5),
                  loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    loaded.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_seed_network_learns_the_study_hours():
    x, y = datasets.study_hours()
    model = Sequential([Dense(3, activation="sigmoid", input_dim=2, kernel_initializer="random_normal"),
                        Dense(1, activation="sigmoid", kernel_initializer="random_normal")],
                       dtype="float64", seed=812)
    model.compile(optimizer=nf.optimizers.SGD(learning_rate=1.0), loss="mse")
    first = model.evaluate(x, y)
    for _ in range(2000):
        model.train_on_batch(x, y)
    assert model.evaluate(x, y) < 0.5 * first


def test_seed_regression_learns():
    # The notes' Keras example (SGD 0.01, 50 epochs). Its targets vary little (variance 0.0116), so
    # "learns" means: better than predicting the mean, and less than half the untrained loss (from
    # a seed whose untrained guess is off by more than the spread of the targets, as in the notes).
    x, y = datasets.make_samples(1000, seed=0)
    model = Sequential([Dense(3, input_dim=2, activation="sigmoid"), Dense(1, activation="sigmoid")], seed=3)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mse"])
    untrained = model.evaluate(x, y, return_dict=True)["loss"]
    h = model.fit(x, y, epochs=50, verbose=0)
    assert set(h.history) == {"loss", "mae", "mse"}
    assert h.history["loss"][-1] < h.history["loss"][0]
    final = model.evaluate(x, y, return_dict=True)["loss"]
    assert final < 0.5 * untrained and final < y.var()


def test_digits_reach_95_percent():
    pytest.importorskip("sklearn")
    (xt, yt), (xv, yv) = datasets.load_digits(seed=0)
    model = Sequential([Dense(64, activation="relu", input_dim=64), Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer=nf.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(xt, yt, batch_size=32, epochs=40, verbose=0)
    assert model.evaluate(xv, yv, return_dict=True)["accuracy"] >= 0.95


# --- bad input ----------------------------------------------------------------------------------

def compiled():
    model = mlp("native", "float32")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize("x, y, words", [
    (np.zeros((10, 5)), np.zeros(10, int), "x has 5 features but the model's input size is 7"),
    (np.zeros((10, 7)), np.zeros(9, int), "y has 9 samples but x has 10"),
    (np.zeros((10, 7)), np.full(10, 4), r"class indices in \[4, 4\] but the model has 4 outputs"),
    (np.zeros((10, 7)), np.full(10, -1), "class indices"),
    (np.zeros((10, 7), complex), np.zeros(10, int), "x must hold real numbers"),
    (np.full((10, 7), "a"), np.zeros(10, int), "x must hold real numbers"),
    (np.full((10, 7), np.nan), np.zeros(10, int), "x contains NaN or Inf"),
    (np.zeros(7), np.zeros(1, int), "x must be 2-D"),
    (np.zeros((10, 7)), np.full(10, 0.5), "integer class indices"),
])
def test_bad_data_is_refused_before_any_step(x, y, words):
    model = compiled()
    before = model.get_weights()
    with pytest.raises(ValueError, match=words):
        model.fit(x, y, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="optimizer must be an Optimizer instance or one of .*'adam'.*'sgd', "
                                         "got 'lamb'"):
        compiled().compile(optimizer="lamb", loss="mse")
    with pytest.raises(ValueError, match="loss must be a callable or one of 'mse'"):
        compiled().compile(optimizer="sgd", loss="no_such_loss")
    with pytest.raises(ValueError, match="metric must be a Metric or one of .*'accuracy'"):
        compiled().compile(optimizer="sgd", loss="mse", metrics=["no_such_metric"])
    with pytest.raises(ValueError, match="activation must be None or one of .*'relu'"):
        Dense(3, activation="no_such_activation")
    with pytest.raises(NotImplementedError, match="activation='glu' is not supported by nnfast's layers"):
        Dense(3, activation="glu")  # a Keras activation that halves the features
    with pytest.raises(ValueError, match="backend must be one of"):
        Sequential(backend="cuda")
    for dtype in ("float16", "int32", "not-a-dtype"):
        with pytest.raises(ValueError, match="dtype must be one of"):
            Sequential(dtype=dtype)


def test_non_finite_loss_stops_fit_and_keeps_the_last_finite_weights():
    x, y = classification_data()
    model = Sequential([Dense(4, activation="linear", input_dim=7)], seed=0)
    model.compile(optimizer=nf.optimizers.SGD(learning_rate=1e30), loss="mse")
    with pytest.raises(FloatingPointError, match="the loss became"):
        model.fit(x, np.eye(4)[y], batch_size=8, epochs=5, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_keyboard_interrupt_returns_the_history_so_far():
    x, y = classification_data()

    class Interrupt(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.weights = self.model.get_weights()
                raise KeyboardInterrupt

    model = compiled()
    cb = Interrupt()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[cb])
    assert history is model.history
    for a, b in zip(model.get_weights(), cb.weights):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 2


def test_early_stopping_and_checkpoint_work_with_fit(tmp_path):
    x, y = classification_data()
    model = compiled()
    stop = nf.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    ckpt = nf.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch:02d}.npz"), monitor="loss")
    h = model.fit(x, y, epochs=10, verbose=0, callbacks=[stop, ckpt])
    assert len(h.history["loss"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e01.npz", "e02.npz"]


def test_progress_bar(capsys):
    x, y = classification_data(n=64)
    model = compiled()
    model.fit(x, y, batch_size=32, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "2/2\x1b[0m \x1b[32m━" in out and "loss: " in out  # Keras 3's bar
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_l2_kernel_regularizer_adds_its_penalty_and_gradient():
    x, labels = classification_data(n=30, classes=3)
    results = []
    for backend in ("native", "reference"):
        model = Sequential([Dense(5, activation="tanh", input_dim=7, kernel_regularizer=nf.regularizers.l2(0.05)),
                            Dense(3, activation="softmax")], backend=backend, dtype="float64", seed=2)
        model.compile(optimizer=nf.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
        plain = model.evaluate(x, labels)
        kernel = model.get_weights()[0]
        assert plain == pytest.approx(model.loss.fused_value_and_grad(model._backend, model._forward(x, False), labels,
                                                       np.empty((30, 3)))[0] + 0.05 * np.sum(kernel ** 2))
        # the gradient of the penalty reaches the kernel: compare with finite differences
        model._prepare()
        out = model._forward(x, True)
        model._backward(model._loss_and_grad(out, labels)[1])
        analytic = model._grad_views[0][0, 0]
        w = model._param_views[0]
        w[0, 0] += 1e-6
        up = model.evaluate(x, labels)
        w[0, 0] -= 2e-6
        down = model.evaluate(x, labels)
        w[0, 0] += 1e-6
        assert analytic == pytest.approx((up - down) / 2e-6, rel=1e-5)
        results.append(model.fit(x, labels, batch_size=10, epochs=3, verbose=0).history["loss"])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10)


def test_learning_rate_callbacks_drive_the_real_optimizer():
    x, y = classification_data()
    model = compiled()
    seen = []

    def schedule(epoch, lr):
        seen.append(lr)
        return 0.01 / (epoch + 1)

    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[nf.callbacks.LearningRateScheduler(schedule)],
                  validation_data=(x[:20], y[:20]))
    assert seen[1:] == pytest.approx([0.01, 0.005])
    assert model.optimizer.learning_rate == pytest.approx(0.01 / 3)
    assert h.history["learning_rate"] == pytest.approx([0.01, 0.005, 0.01 / 3])
    assert len(h.history["val_loss"]) == 3
    plateau = nf.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=100.0)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[plateau], initial_epoch=0)
    assert model.optimizer.learning_rate == pytest.approx(0.01 / 3 / 2)  # epoch 1 sets the best, epoch 2 halves


@pytest.mark.parametrize("loss, activation, targets", [
    ("sparse_categorical_crossentropy", "softmax", "sparse"), ("categorical_crossentropy", "softmax", "onehot"),
    ("mse", "sigmoid", "onehot"), ("mae", "linear", "onehot"), ("binary_crossentropy", "sigmoid", "onehot"),
])
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_one_call_native_step_equals_the_general_loop_bit_for_bit(opt, loss, activation, targets):
    x, labels = classification_data(n=70, classes=3)
    y = labels if targets == "sparse" else np.eye(3)[labels]
    runs = []
    for fast in (True, False):
        model = Sequential([Dense(8, activation="relu", input_dim=7), Dense(5, activation="tanh"),
                            Dense(3, activation=activation)], seed=4)
        model.fast_step = fast
        model.compile(optimizer=OPTIMIZERS[opt](), loss=loss, metrics=["acc"])
        h = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        steps = [model.train_on_batch(x[:10], y[:10]) for _ in range(3)]
        runs.append((h.history, steps, model.get_weights(), model.optimizer.iterations))
        assert bool(model.native_planner and model.native_planner.batch_sizes) == fast  # the fast path really ran
    (h1, s1, w1, i1), (h2, s2, w2, i2) = runs
    assert h1 == h2 and s1 == s2 and i1 == i2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_one_call_step_follows_replaced_optimizer_state(tmp_path):
    x, y = classification_data()
    model = compiled()
    model.fit(x, y, epochs=1, verbose=0)
    state = model.optimizer.get_state()
    model.optimizer.set_state(state)  # new state arrays: the cached native step must be rebuilt
    model.fit(x, y, epochs=1, verbose=0)
    twin = compiled()
    twin.fast_step = False
    twin.fit(x, y, epochs=1, verbose=0)
    twin.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fast", [True, False])
def test_train_on_batch_refuses_non_finite_data_before_any_update(fast):
    x, y = classification_data(n=20, classes=3)
    model = Sequential([Dense(4, activation="relu"), Dense(3, activation="softmax")], seed=0)
    model.fast_step = fast
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    targets = np.eye(3)[y]
    for _ in range(3):  # before and after the native step exists
        before = model.get_weights() if model.built else None
        bad_x = x.copy()
        bad_x[3, 2] = np.nan
        with pytest.raises(ValueError, match="x contains NaN or Inf"):
            model.train_on_batch(bad_x, targets)
        bad_y = targets.copy()
        bad_y[0, 0] = np.inf
        with pytest.raises(ValueError, match="y contains NaN or Inf"):
            model.train_on_batch(x, bad_y)
        if before is not None:
            for a, b in zip(model.get_weights(), before):
                np.testing.assert_array_equal(a, b)
        model.train_on_batch(x, targets)
    assert model.optimizer.iterations == 3


def test_a_loss_keeps_its_arguments_through_save_and_load(tmp_path):
    x, y = classification_data(n=20, classes=3)
    model = Sequential([Dense(3, activation="linear", input_dim=7)], seed=0)
    model.compile(optimizer="sgd", loss=nf.losses.Huber(delta=0.25))
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert isinstance(loaded.loss, nf.losses.Huber) and loaded.loss.get_config()["delta"] == 0.25
    targets = np.eye(3)[y]
    assert loaded.evaluate(x, targets) == model.evaluate(x, targets)


@pytest.mark.parametrize("loss", [nf.losses.BinaryCrossentropy(from_logits=True),
                                  nf.losses.SparseCategoricalCrossentropy(from_logits=True),
                                  nf.losses.MeanSquaredError(reduction="sum")])
def test_losses_without_a_native_kernel_case_train_and_equal_the_general_loop(loss):
    x, y = classification_data(n=40, classes=3)
    sparse = isinstance(loss, nf.losses.SparseCategoricalCrossentropy)
    targets = y if sparse else (np.eye(3)[y] if not isinstance(loss, nf.losses.BinaryCrossentropy)
                                else (y[:, None] == 0).astype(float))
    units = 1 if isinstance(loss, nf.losses.BinaryCrossentropy) else 3
    runs = []
    for fast in (True, False):
        model = Sequential([Dense(6, activation="relu", input_dim=7), Dense(units)], seed=1)
        model.fast_step = fast
        model.compile(optimizer=nf.optimizers.Adam(0.01), loss=loss)
        history = model.fit(x, targets, batch_size=8, epochs=2, verbose=0)
        runs.append((history.history["loss"], model.get_weights()))
        if fast:  # a loss with a kernel runs natively, any other through the general loop
            assert (model.native_planner is not None) == (loss.kernel is not None)
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_numpy_global_seed_makes_a_model_without_seed_reproducible():
    x, y = classification_data(n=40, classes=3)
    runs = []
    for _ in range(2):
        np.random.seed(1234)  # what Keras users write; a model with seed=None draws its seed from it
        model = Sequential([Dense(6, activation="relu", input_dim=7), Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        runs.append((model.get_weights(), history.history["loss"]))
    assert runs[0][1] == runs[1][1]
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    np.random.seed(99)  # another global seed, other initial weights
    other = Sequential([Dense(6, activation="relu", input_dim=7), Dense(3, activation="softmax")])
    np.random.seed(1234)
    again = Sequential([Dense(6, activation="relu", input_dim=7), Dense(3, activation="softmax")])
    assert not np.array_equal(other.get_weights()[0], again.get_weights()[0])


def test_lists_and_pandas_frames_are_accepted_as_keras_accepts_them():
    x, y = classification_data(n=30, classes=3)
    model = Sequential([Dense(3, activation="softmax", input_dim=7)], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    expected = model.predict(x)
    np.testing.assert_array_equal(model.predict(x.tolist()), expected)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(7)])
    np.testing.assert_array_equal(model.predict(frame), expected)
    labels = pd.Series(y)
    assert model.evaluate(frame, labels) == model.evaluate(x, y)
    # pd.get_dummies' bool columns beside float ones: np.asarray gives an object array, Keras trains
    mixed = frame.copy()
    mixed["f6"] = x[:, 6] > 0
    as_numbers = x.copy()
    as_numbers[:, 6] = x[:, 6] > 0
    np.testing.assert_array_equal(model.predict(mixed), model.predict(as_numbers))
    history = model.fit(mixed, labels, epochs=2, verbose=0).history
    assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()
    # a column that is not a number is named, with what to do
    mixed["f5"] = pd.Categorical(np.where(x[:, 5] > 0, "a", "b"))
    weights = model.get_weights()
    with pytest.raises(ValueError, match=r"x must hold real numbers, but the DataFrame's columns 'f5' \(category\) "
                                         r"do not: encode them as numbers first"):
        model.fit(mixed, labels, verbose=0)
    with pytest.raises(ValueError, match=r"y must hold real numbers, but the DataFrame's columns 'c'"):
        regression = Sequential([Dense(1, input_dim=7)], seed=0)
        regression.compile(optimizer="sgd", loss="mse")
        regression.fit(x, pd.DataFrame({"c": pd.Categorical(["u"] * 30)}), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))


def test_fit_and_evaluate_on_no_samples_are_refused_before_anything_runs():
    model = Sequential([Dense(2, input_dim=3)])
    model.compile("sgd", "mse", metrics=["mae"])
    before = model.get_weights()
    empty_x, empty_y = np.zeros((0, 3), np.float32), np.zeros((0, 2), np.float32)
    with pytest.raises(ValueError, match="x has no samples to train on"):
        model.fit(empty_x, empty_y, verbose=0)
    with pytest.raises(ValueError, match="x has no samples to evaluate"):
        model.evaluate(empty_x, empty_y, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.predict(empty_x, verbose=0).shape == (0, 2)
