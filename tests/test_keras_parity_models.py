"""Models built through nnfast.keras against the same models in Keras 3 (torch backend): equal
initial weights (set_weights), shuffle=False, 5 epochs. The loss history must agree within 1e-5
relative in float32 and the final weights within 1e-4 (the issue's bounds), for each kind of model
and layer nnfast supports, with class_weight and sample_weight too."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
import nnfast.keras as nk  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

EPOCHS = 5


def data(n=96, features=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(np.float32), rng.integers(0, classes, n)


def mlp(K):
    return K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16, activation="relu"),
                         K.layers.Dense(8, activation="tanh"), K.layers.Dense(3, activation="softmax")])


def flatten_images(K):
    return K.Sequential([K.Input(shape=(3, 4)), K.layers.Flatten(), K.layers.Dense(10),
                         K.layers.Activation("sigmoid"), K.layers.Dense(3), K.layers.Softmax()])


def activation_layers(K):
    return K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16), K.layers.ReLU(), K.layers.Dense(8),
                         K.layers.LeakyReLU(negative_slope=0.2), K.layers.Dense(3, activation="softmax")])


def frozen_layer(K):
    return K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16, activation="relu", trainable=False),
                         K.layers.Dense(3, activation="softmax")])


def two_inputs(K):
    a, b = K.Input(shape=(7,), name="a"), K.Input(shape=(5,), name="b")
    ha = K.layers.Dense(8, activation="relu")(a)
    hb = K.layers.Dense(8, activation="tanh")(b)
    joined = K.layers.Concatenate()([ha, hb])
    summed = K.layers.Add()([K.layers.Dense(6)(joined), K.layers.Dense(6)(joined)])
    return K.Model([a, b], K.layers.Dense(3, activation="softmax")(summed))


def batch_norm(K):
    # no bias before the normalization: its gradient is exactly zero in theory, so in either library
    # it is rounding noise, which Adam turns into steps of the full learning rate
    return K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16, use_bias=False), K.layers.BatchNormalization(),
                         K.layers.ReLU(), K.layers.Dense(3, activation="softmax")])


def layer_norm(K):
    return K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16, activation="tanh"),
                         K.layers.LayerNormalization(), K.layers.Dense(3, activation="softmax")])


def adapted_normalization(K):
    norm = K.layers.Normalization()
    norm.adapt(data()[0] * 3.0 + 1.0)
    return K.Sequential([K.Input(shape=(12,)), norm, K.layers.Dense(16, activation="relu"),
                         K.layers.Dense(3, activation="softmax")])


def given_normalization(K):
    """Normalization with its mean and variance given: constants, so no weights (as in Keras)."""
    stats = np.linspace(-1.0, 1.0, 12), np.linspace(0.5, 4.0, 12)
    return K.Sequential([K.Input(shape=(12,)), K.layers.Normalization(mean=stats[0], variance=stats[1]),
                         K.layers.Dense(16, activation="relu"), K.layers.Dense(3, activation="softmax")])


MODELS = {"mlp": mlp, "flatten": flatten_images, "activation_layers": activation_layers, "frozen": frozen_layer,
          "two_inputs": two_inputs, "batch_norm": batch_norm, "layer_norm": layer_norm,
          "normalization": adapted_normalization, "given_normalization": given_normalization}


def inputs_for(name, x):
    if name == "flatten":
        return x.reshape(len(x), 3, 4)
    if name == "two_inputs":
        return [x[:, :7], x[:, 7:]]
    return x


def train_both(build, x, y, optimizer, loss="sparse_categorical_crossentropy", **fit):
    ours, theirs = build(nk), build(keras)
    theirs.set_weights(ours.get_weights())
    histories = []
    for model, K in ((ours, nk), (theirs, keras)):
        model.compile(optimizer=optimizer(K), loss=loss, metrics=["accuracy"])
        histories.append(model.fit(x, y, batch_size=16, epochs=EPOCHS, shuffle=False, verbose=0, **fit).history)
    return ours, theirs, histories


def assert_same_training(ours, theirs, histories):
    mine, keras_history = histories
    np.testing.assert_allclose(mine["loss"], keras_history["loss"], rtol=1e-5)
    assert mine["accuracy"] == pytest.approx(keras_history["accuracy"], abs=1e-7)  # same predictions, same counts
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(b).max())))


def assert_continues_after_save_and_load(model, x, y, path):
    """A fitted model saved and loaded predicts the same, and both go on training identically (its
    layers' streams, the optimizer's state and the weights all carried over)."""
    model.save(path)
    loaded = nk.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    again = [m.fit(x, y, epochs=2, verbose=0, shuffle=False).history["loss"] for m in (model, loaded)]
    assert again[0] == again[1]


OPTIMIZERS = {"sgd": lambda K: K.optimizers.SGD(0.05, momentum=0.9), "adam": lambda K: K.optimizers.Adam(0.01)}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_train_as_keras_does(name, optimizer):
    x, y = data()
    ours, theirs, histories = train_both(MODELS[name], inputs_for(name, x), y, OPTIMIZERS[optimizer])
    assert_same_training(ours, theirs, histories)


def test_a_frozen_layer_gets_no_update_and_counts_as_non_trainable():
    x, y = data()
    ours, theirs, histories = train_both(frozen_layer, x, y, OPTIMIZERS["adam"])
    before = frozen_layer(nk)
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 2
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights) == 2
    np.testing.assert_array_equal(ours.get_weights()[0], theirs.get_weights()[0])  # both never moved it
    lines = []
    ours.summary(print_fn=lambda text: lines.extend(text.splitlines()))
    assert any(line.startswith(" Non-trainable params: 208 ") for line in lines)  # the frozen 12x16 kernel and bias
    assert before.count_params() == ours.count_params()


@pytest.mark.parametrize("loss, targets", [("sparse_categorical_crossentropy", "labels"),
                                           ("categorical_crossentropy", "onehot"), ("mse", "onehot")])
def test_class_weight_and_sample_weight_as_keras(loss, targets):
    x, y = data()
    t = y if targets == "labels" else np.eye(3, dtype=np.float32)[y]
    weights = np.random.default_rng(5).uniform(0.2, 2.0, len(x)).astype(np.float32)
    float_keys = dict(zip(np.unique(y).astype(np.float32), [0.5, 2.0, 1.0]))  # from labels of a float column
    for fit in ({"class_weight": {0: 0.5, 1: 2.0, 2: 1.0}}, {"class_weight": {1: 3.0}}, {"sample_weight": weights},
                {"class_weight": float_keys}):
        ours, theirs, histories = train_both(mlp, x, t, OPTIMIZERS["sgd"], loss=loss, **fit)
        assert_same_training(ours, theirs, histories)
    for K in (nk, keras):  # both refuse the two at once
        model = mlp(K)
        model.compile(optimizer="sgd", loss=loss)
        with pytest.raises(ValueError, match="class_weight.*sample_weight"):
            model.fit(x, t, class_weight={1: 3.0}, sample_weight=weights, verbose=0)


def test_evaluate_returns_what_keras_returns():
    x, y = data()
    ours, theirs, _ = train_both(mlp, x, y, OPTIMIZERS["adam"])
    for kwargs in ({}, {"return_dict": True}):
        mine, keras_result = ours.evaluate(x, y, verbose=0, **kwargs), theirs.evaluate(x, y, verbose=0, **kwargs)
        assert type(mine) is type(keras_result)
        if isinstance(mine, dict):
            assert mine.keys() == keras_result.keys()
            mine, keras_result = [mine[k] for k in sorted(mine)], [keras_result[k] for k in sorted(mine)]
        np.testing.assert_allclose(mine, keras_result, rtol=1e-5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-4, atol=1e-6)


def test_on_batch_calls_return_what_keras_returns():
    x, y = data()
    ours, theirs, _ = train_both(mlp, x, y, OPTIMIZERS["adam"])
    for rows in (slice(0, 32), slice(32, 45)):  # each call's metrics are its batch's, as Keras's
        for kwargs in ({}, {"return_dict": True}):
            mine, keras_result = ours.test_on_batch(x[rows], y[rows], **kwargs), \
                theirs.test_on_batch(x[rows], y[rows], **kwargs)
            assert type(mine) is type(keras_result)
            if isinstance(mine, dict):
                assert mine.keys() == keras_result.keys()
                mine, keras_result = [mine[k] for k in sorted(mine)], [keras_result[k] for k in sorted(mine)]
            np.testing.assert_allclose(mine, keras_result, rtol=1e-5)
        np.testing.assert_allclose(ours.test_on_batch(x[rows], y[rows]), ours.evaluate(x[rows], y[rows], verbose=0,
                                                                                         batch_size=64), rtol=1e-6)
    before = ours.get_weights()
    ours.reset_metrics()
    mine, keras_result = ours.predict_on_batch(x[:5]), theirs.predict_on_batch(x[:5])
    assert type(mine) is type(keras_result) and mine.shape == keras_result.shape == (5, 3)
    np.testing.assert_allclose(mine, keras_result, rtol=1e-4, atol=1e-6)
    assert all(np.array_equal(a, b) for a, b in zip(before, ours.get_weights()))  # nothing trained


def test_batch_normalization_moving_statistics_and_inference_as_keras():
    x, y = data()
    ours, theirs, _ = train_both(batch_norm, x, y, OPTIMIZERS["adam"])
    names = [w.path if hasattr(w, "path") else "" for w in theirs.weights]
    assert any("moving_mean" in n for n in names)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # moving statistics included
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-4, atol=1e-6)


def test_dropout_is_the_identity_at_inference_and_keeps_the_expected_scale_in_training():
    x, y = data()
    ours, theirs = (K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16, activation="relu"), K.layers.Dropout(0.5),
                                  K.layers.Dense(3, activation="softmax")]) for K in (nk, keras))
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-7)
    ours.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    losses = ours.fit(x, y, epochs=3, verbose=0).history["loss"]  # masks differ from Keras's: its RNG is another
    assert np.isfinite(losses).all()


def test_functional_layers_are_in_keras_order_so_weights_line_up():
    def branches(K):
        a, b = K.Input(shape=(3,), name="a"), K.Input(shape=(2,), name="b")
        d2 = K.layers.Dense(4, name="d2")(K.layers.Dense(4, name="d1")(a))
        d3 = K.layers.Dense(4, name="d3")(b)
        return K.Model([a, b], K.layers.Dense(1, name="out")(K.layers.Concatenate(name="cat")([d2, d3])))
    ours, theirs = branches(nk), branches(keras)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]


@pytest.mark.parametrize("slope", [0.3, 0.2, 0.01])
def test_leaky_relu_of_any_slope_trains_as_keras(slope):
    def model(K):
        return K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16), K.layers.LeakyReLU(negative_slope=slope),
                             K.layers.Dense(3, activation="softmax")])
    x, y = data()
    assert_same_training(*train_both(model, x, y, OPTIMIZERS["adam"]))


def test_model_and_layer_weight_io_and_metric_names_as_keras(tmp_path):
    x, y = data()
    ours, theirs, _ = train_both(mlp, x, y, OPTIMIZERS["adam"])
    assert ours.metrics_names[0] == "loss" and "accuracy" in ours.metrics_names
    path = tmp_path / "w.weights.npz"
    ours.save_weights(path)
    fresh = mlp(nk)
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="exists"):
        ours.save_weights(path, overwrite=False)
    layer = fresh.layers[0]
    layer.set_weights([w * 0 for w in layer.get_weights()])
    assert not fresh.get_weights()[0].any()
    with pytest.raises(ValueError, match="weights must hold 2 arrays"):
        layer.set_weights([np.zeros((12, 16))])
    for K, model in ((nk, ours), (keras, theirs)):  # execution options Keras takes change no result
        model.compile(optimizer=K.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                      run_eagerly=True, jit_compile=False, steps_per_execution=1)
    with pytest.raises(NotImplementedError, match="loss_weights"):
        ours.compile(optimizer="adam", loss="mse", loss_weights=[0.5])


@pytest.mark.parametrize("loss", ["huber", "log_cosh", "mean_absolute_percentage_error", "categorical_hinge",
                                  "kl_divergence", "squared_hinge", "cosine_similarity"])
def test_losses_trained_through_fit_as_keras(loss):
    x, y = data()
    targets = np.eye(3, dtype=np.float32)[y] * 0.8 + 0.1  # positive rows: every loss is defined on them
    ours, theirs, histories = train_both(mlp, x, targets, OPTIMIZERS["sgd"], loss=loss)
    assert_same_training(ours, theirs, histories)


def batchnorm_mlp(K):  # no bias before the normalization: its gradient is 0 but for rounding, which Adam scales up
    return K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16, use_bias=False), K.layers.BatchNormalization(),
                         K.layers.Activation("relu"), K.layers.Dense(8, activation="tanh"),
                         K.layers.Dense(3, activation="softmax")])


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("recompile", [False, True], ids=["same_optimizer", "recompiled"])
def test_freezing_and_thawing_layers_after_training_follows_keras(optimizer, recompile):
    """Fine-tuning as Keras programs do it: train, freeze the first layers (`layer.trainable = False`
    on a built model), train, thaw them, train. Without compiling again, the optimizer keeps every
    slot (a thawed layer goes on from its own); compiled again, each phase starts a new optimizer.
    A frozen BatchNormalization also runs in inference mode, as in Keras."""
    x, y = data()
    ours, theirs = batchnorm_mlp(nk), batchnorm_mlp(keras)
    theirs.set_weights(ours.get_weights())
    histories = []
    for model, K in ((ours, nk), (theirs, keras)):
        losses = []
        for phase, frozen in enumerate((False, True, False)):
            for layer in model.layers[:3]:
                layer.trainable = not frozen
            if phase == 0 or recompile:
                model.compile(optimizer=OPTIMIZERS[optimizer](K), loss="sparse_categorical_crossentropy",
                              metrics=["accuracy"])
            losses += model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history["loss"]
            assert len(model.trainable_weights) == (4 if frozen else 7)
            if frozen:
                summary = []
                model.summary(print_fn=lambda text, *args, **kwargs: summary.extend(text.splitlines()))
                histories.append([line.strip() for line in summary if line.strip().startswith(
                    ("Total params", "Trainable params", "Non-trainable params"))])
        histories.append([float(v) for v in losses])
    ours_summary, ours_losses, theirs_summary, theirs_losses = histories
    np.testing.assert_allclose(ours_losses, theirs_losses, rtol=1e-5)
    assert ours_summary == theirs_summary and len(ours_summary) == 3
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(b).max())))


def test_thawing_a_layer_the_optimizer_never_trained_asks_for_a_new_optimizer_touching_nothing():
    x, y = data()
    for K in (nk, keras):
        model = frozen_layer(K)
        model.compile(optimizer=K.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, verbose=0)
        model.layers[0].trainable = True
        before = model.get_weights()
        with pytest.raises(ValueError, match="(?s)Unknown variable.*recreate a new optimizer instance"):
            model.fit(x, y, epochs=1, verbose=0)
        if K is nk:  # (Keras has taken its forward step by then)
            for a, b in zip(before, model.get_weights()):
                np.testing.assert_array_equal(a, b)
        model.compile(optimizer=K.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, verbose=0)
        assert not np.array_equal(before[0], model.get_weights()[0])


KERAS_OPTIMIZERS = {"SGD": {}, "SGD momentum": {"momentum": 0.9}, "RMSprop": {}, "RMSprop centered": {"centered": True},
                    "Adam": {}, "Adam amsgrad": {"amsgrad": True}, "AdamW": {}, "Adamax": {}, "Nadam": {},
                    "Adagrad": {}, "Adadelta": {}, "Ftrl": {}, "Lion": {}}


@pytest.mark.parametrize("optimizer", sorted(KERAS_OPTIMIZERS) + ["Adam schedule"])
def test_the_summary_counts_the_optimizer_variables_as_keras(optimizer):
    x, y = data()
    lines = []
    for K in (nk, keras):
        model = mlp(K)
        if optimizer == "Adam schedule":
            chosen = K.optimizers.Adam(K.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9))
        else:
            chosen = getattr(K.optimizers, optimizer.split()[0])(**KERAS_OPTIMIZERS[optimizer])
        model.compile(optimizer=chosen, loss="sparse_categorical_crossentropy")
        before = []
        model.summary(print_fn=lambda text, *args, **kwargs: before.extend(text.splitlines()))
        model.fit(x, y, epochs=1, verbose=0)
        after = []
        model.summary(print_fn=lambda text, *args, **kwargs: after.extend(text.splitlines()))
        lines.append([line.strip() for line in before + after if line.strip().endswith(")") and " params: " in line])
    assert lines[0] == lines[1]
    assert sum("Optimizer params" in line for line in lines[0]) == 1  # after the first step only


def test_a_model_saved_after_freezing_a_layer_loads_and_trains_on_identically(tmp_path):
    x, y = data()
    model = mlp(nk)
    model.compile(optimizer=nk.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.layers[0].trainable = False  # no step since: the save lays the arenas out for it
    model.save(tmp_path / "frozen.keras")
    loaded = nk.models.load_model(tmp_path / "frozen.keras")
    assert len(loaded.trainable_weights) == len(model.trainable_weights) == 4
    frozen = model.get_weights()[0].copy()
    histories = [m.fit(x, y, epochs=2, verbose=0, shuffle=False).history["loss"] for m in (model, loaded)]
    assert histories[0] == histories[1]
    for m in (model, loaded):
        np.testing.assert_array_equal(m.get_weights()[0], frozen)



def test_the_summary_table_is_keras_text_for_text(monkeypatch):
    # rich's layout, as Keras prints it: column widths reduced evenly to the line, cells wrapped at
    # spaces, a word too long cut with an ellipsis; also a model with no input shape yet
    monkeypatch.setenv("COLUMNS", "80")
    tables = []
    for K in (nk, keras):
        K.backend.clear_session()
        L = K.layers
        unbuilt = K.Sequential([L.Dense(16, activation="relu"), L.Dense(1)])
        sequential = K.Sequential([K.Input((12,)), L.Dense(16, activation="relu"), L.BatchNormalization(),
                                   L.Dropout(0.2), L.Dense(3, activation="softmax")])
        a, b = K.Input((7,), name="numeric_features_input"), K.Input((5,), name="category")
        joined = L.Concatenate(name="a_very_long_concatenate_layer_name")(
            [L.Dense(8, name="dense_numeric_branch")(a), L.Dense(8)(b)])
        functional = K.Model([a, b], L.Dense(1, activation="sigmoid")(joined))
        frozen = K.Sequential([K.Input((6,)), L.Dense(4, trainable=False), L.Dropout(0.1), L.Dense(1)])
        calls = []  # print_fn gets each table in one call, ending in a newline, as Keras 3 gives it
        for model, kwargs in ((unbuilt, {}), (sequential, {}), (functional, {}), (sequential, {"line_length": 60}),
                              (frozen, {"show_trainable": True}), (functional, {"show_trainable": True}),
                              (sequential, {"positions": [0.3, 0.7, 1.0]}),
                              (functional, {"layer_range": ["dense_numeric", "a_very"]})):
            model.summary(print_fn=lambda text, *args, **kw: calls.append(text), **kwargs)
        assert len(calls) == 8 and all(text.endswith(" B)\n") for text in calls)
        text = [line for call in calls for line in call.splitlines()]
        tables.append([line for line in text if not line.startswith("Model: ")])  # Keras numbers models apart
        with pytest.raises(ValueError, match="do not match the layer names"):
            functional.summary(layer_range=["nothing", "a_very"])
    assert tables[0] == tables[1]
    assert any("…" in line for line in tables[0]) and any("0 (unbuilt)" in line for line in tables[0])
    assert any("Trainable" in line for line in tables[0]) and any(" N " in line for line in tables[0])


@pytest.mark.filterwarnings("ignore::UserWarning")  # Keras warns of a structure it then accepts
def test_a_model_of_one_input_takes_its_input_in_every_form_keras_takes():
    x = data()[0]
    outputs = {}
    for K in (nk, keras):
        inp = K.Input((12,), name="features")
        named = K.Model(inp, K.layers.Dense(3, kernel_initializer="ones")(inp))
        listed_input = K.Input((12,))
        listed = K.Model([listed_input], K.layers.Dense(3, kernel_initializer="ones")(listed_input))
        sequential = K.Sequential([K.Input((12,)), K.layers.Dense(3, kernel_initializer="ones")])
        outputs[K] = [named.predict({"features": x}, verbose=0), named.predict([x], verbose=0),
                      listed.predict(x, verbose=0), listed.predict([x], verbose=0), sequential.predict([x], verbose=0)]
    for ours, theirs in zip(outputs[nk], outputs[keras]):
        assert ours.shape == theirs.shape == (len(x), 3)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    model = nk.Sequential([nk.Input((12,)), nk.layers.Dense(3)])
    assert model.predict(x[:2].tolist(), verbose=0).shape == (2, 3)  # a list of rows stays rows


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
def test_freezing_the_whole_model_freezes_every_layer_as_keras():
    x, y = data()
    states = {}
    for K in (nk, keras):
        model = batch_norm(K)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, verbose=0, shuffle=False)
        before = [w.copy() for w in model.get_weights()]
        model.trainable = False
        flags = [layer.trainable for layer in model.layers]
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x + 3, y, epochs=1, verbose=0, shuffle=False)  # batch norm in inference mode: stats kept
        unchanged = all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
        model.trainable = True
        states[K] = (flags, unchanged, [layer.trainable for layer in model.layers], len(model.trainable_weights))
    assert states[nk] == states[keras]
    assert states[nk][:2] == ([False] * 4, True)


def test_build_of_a_built_model_is_what_keras_does():
    """build() again with the model's own shape changes nothing (tutorials call it after compile or
    summary), another shape is refused with Keras's message, and a functional model's build is a
    no-op."""
    x, y = np.ones((8, 10), np.float32), np.ones((8, 1), np.float32)
    messages = []
    for K in (nk, keras):
        model = K.Sequential([K.Input((10,)), K.layers.Dense(4), K.layers.Dense(1)])
        model.compile(loss="mse")
        before = [w.copy() for w in model.get_weights()]
        model.build((None, 10))
        assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
        model.fit(x, y, verbose=0)
        model.build((None, 10))
        with pytest.raises(ValueError) as err:
            model.build((None, 11))
        messages.append(str(err.value))
        lazy = K.Sequential([K.layers.Dense(4), K.layers.Dense(1)])
        lazy.build((None, 5))
        lazy.build((None, 5))
        assert len(lazy.get_weights()) == 4
        inp = K.Input((3,))
        functional = K.Model(inp, K.layers.Dense(2)(inp))
        functional.build((None, 3))
        assert functional.count_params() == 8
    assert messages[0].split("'")[2] == messages[1].split("'")[2]  # the same text, model names aside
    assert "You cannot build it with input_shape (None, 11)" in messages[0]


def test_evaluate_counts_the_penalties_of_trainable_layers_only_as_keras():
    """Freezing or thawing a regularized layer after compile changes evaluate's loss at once (Keras
    adds the penalties of trainable weights), without a fit in between."""
    x, y = data()
    models = []
    for K in (nk, keras):
        models.append(K.Sequential([
            K.Input(shape=(12,)), K.layers.Dense(8, activation="relu", kernel_regularizer=K.regularizers.l2(0.05),
                                                 name="first"),
            K.layers.Dense(3, activation="softmax", kernel_regularizer=K.regularizers.l1(0.02), name="second")]))
        models[-1].compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    models[1].set_weights(models[0].get_weights())
    for frozen in ([], ["first"], ["first", "second"], ["second"]):
        losses = []
        for model in models:
            for layer in model.layers:
                layer.trainable = layer.name not in frozen
            losses.append((model.evaluate(x, y, verbose=0), model.test_on_batch(x[:20], y[:20])))
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5, err_msg=str(frozen))


def test_a_model_inside_a_sequential_is_refused_naming_nested_models():
    """The TensorFlow quickstart's probability_model = Sequential([model, Softmax()])."""
    inner = nk.Sequential([nk.Input((3,)), nk.layers.Dense(2)])
    for make in (lambda: nk.Sequential([inner, nk.layers.Softmax()]), lambda: nk.Sequential().add(inner)):
        with pytest.raises(NotImplementedError, match="nested models.*not supported by nnfast"):
            make()
    keras_inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    keras.Sequential([keras_inner, keras.layers.Softmax()])  # Keras takes it


def test_a_given_normalization_has_no_weights_as_keras():
    ours, theirs = given_normalization(nk), given_normalization(keras)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours.count_params() == theirs.count_params() == 12 * 16 + 16 + 16 * 3 + 3
    assert ours.layers[0].get_weights() == [] and ours.layers[0].count_params() == 0
    with pytest.raises(ValueError, match="build it without mean and variance to adapt it"):
        nk.layers.Normalization(mean=0.0, variance=1.0).adapt(np.ones((4, 2)))


def test_validation_split_takes_its_share_of_sample_weight_as_keras():
    x, y = data(n=100)
    weights = np.random.default_rng(6).uniform(0.1, 3.0, len(x)).astype(np.float32)
    histories = []
    for fit in ({"sample_weight": weights}, {"class_weight": {0: 0.3, 1: 2.0, 2: 1.0}}):
        ours, theirs, h = train_both(mlp, x, y, OPTIMIZERS["sgd"], validation_split=0.25, **fit)
        np.testing.assert_allclose(h[0]["val_loss"], h[1]["val_loss"], rtol=1e-5)
        histories.append(h[0]["val_loss"])
    split = ours.evaluate(x[75:], y[75:], verbose=0)[0]  # class_weight: the split is unweighted, as in Keras
    np.testing.assert_allclose(histories[1][-1], split, rtol=1e-6)


def test_scipy_sparse_inputs_are_made_dense_as_keras_does():
    sparse = pytest.importorskip("scipy.sparse")
    x, y = data()
    x[np.abs(x) < 0.8] = 0.0
    dense_run = train_both(mlp, x, y, OPTIMIZERS["sgd"])
    sparse_run = train_both(mlp, sparse.csr_matrix(x), y, OPTIMIZERS["sgd"])
    np.testing.assert_allclose(sparse_run[2][0]["loss"], sparse_run[2][1]["loss"], rtol=1e-5)
    ours = sparse_run[0]
    assert len(dense_run[2][0]["loss"]) == len(sparse_run[2][0]["loss"])
    for form in (sparse.coo_matrix(x), sparse.csc_matrix(x), sparse.csr_array(x)):
        np.testing.assert_array_equal(ours.predict(form, verbose=0), ours.predict(x, verbose=0))
        assert ours.evaluate(form, y, verbose=0) == ours.evaluate(x, y, verbose=0)


def test_pickle_and_deepcopy_carry_the_model_and_its_training_state_as_keras():
    import copy
    import pickle
    x, y = data()
    ours, _, _ = train_both(mlp, x, y, OPTIMIZERS["adam"])
    for clone in (pickle.loads(pickle.dumps(ours)), copy.deepcopy(ours)):
        np.testing.assert_array_equal(clone.predict(x, verbose=0), ours.predict(x, verbose=0))
        assert clone.optimizer.iterations == ours.optimizer.iterations
        assert clone.fit(x, y, epochs=1, shuffle=False, verbose=0).history["loss"] == \
            copy.deepcopy(ours).fit(x, y, epochs=1, shuffle=False, verbose=0).history["loss"]


def test_a_functional_chain_is_summarized_as_keras_summarizes_it():
    """One input, one chain of layers: Keras's Sequential layout (no "Connected to" column)."""
    tables = []
    for K in (nk, keras):
        inp = K.Input((5,), name="features")
        model = K.Model(inp, K.layers.Dense(1, name="out")(K.layers.Dense(4, name="hidden")(inp)))
        text = []
        model.summary(print_fn=lambda line, *args, **kw: text.extend(line.splitlines()))
        tables.append([line for line in text if not line.startswith("Model: ")])
    assert tables[0] == tables[1] and not any("Connected to" in line for line in tables[0])


def test_functional_models_refuse_repeated_layer_names_and_take_integer_inputs_as_keras():
    for K in (nk, keras):
        a, b = K.Input((3,), name="a"), K.Input((3,), name="b")
        with pytest.raises(ValueError, match='The name "h" is used 2 times in the model'):
            K.Model([a, b], K.layers.Concatenate()([K.layers.Dense(2, name="h")(a), K.layers.Dense(2, name="h")(b)]))
    losses = []
    for K in (nk, keras):
        ids = K.Input((1,), dtype="int32", name="ids")
        model = K.Model(ids, K.layers.Dense(1)(K.layers.Flatten()(K.layers.Embedding(10, 3)(ids))))
        model.compile("sgd", "mse")
        if K is keras:
            model.set_weights(weights)
        weights = model.get_weights()
        losses.append(model.fit(np.arange(20).reshape(-1, 1) % 10, np.ones((20, 1)), epochs=2, shuffle=False,
                                verbose=0).history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


def test_a_layer_dtype_other_than_the_models_is_refused_not_ignored():
    """Keras gives each layer its own dtype; nnfast runs one per model and says so, before any layer
    is called (the refused call changes nothing). An Input's dtype only says how data arrive."""
    model = nk.Sequential([nk.Input((3,)), nk.layers.Dense(2, dtype="float64")])
    for _ in range(2):
        with pytest.raises(NotImplementedError, match="a dtype per layer is not supported by nnfast.*dtype='float64'"):
            model.compile("sgd", "mse")
    assert not model.built
    assert nk.Sequential([nk.Input((3,), dtype="float64"), nk.layers.Dense(2)]).dtype == np.float32
    inp = nk.Input((3,))
    with pytest.raises(NotImplementedError, match="layer 'wide' has dtype 'float64' in a float32 model"):
        nk.Model(inp, nk.layers.Dense(2, dtype="float64", name="wide")(inp))
