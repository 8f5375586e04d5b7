"""Callbacks as Keras 3 programs use them, against Keras 3 itself (torch backend): the same program,
equal initial weights and shuffle=False. Keras 2's per-batch hook names, LambdaCallback, CSVLogger
and ModelCheckpoint's save_weights_only / initial_value_threshold / missing-monitor rule."""
import csv
import os
import re

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
import nnfast.keras as nk  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)).astype(np.float32), rng.integers(0, 3, n)


def model_pair():
    """The same compiled model in nnfast.keras and in Keras, with equal weights."""
    models = []
    for K in (nk, keras):
        m = K.Sequential([K.Input(shape=(6,)), K.layers.Dense(8, activation="relu"),
                          K.layers.Dense(3, activation="softmax")])
        m.compile(optimizer=K.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        models.append(m)
    models[1].set_weights(models[0].get_weights())
    return models


def fit_both(make_callbacks, epochs=3, **fit):
    """Fits the pair with make_callbacks(K) as callbacks; returns the callbacks of each."""
    x, y = data()
    made = []
    for K, model in zip((nk, keras), model_pair()):
        cbs = make_callbacks(K)
        model.fit(x, y, batch_size=32, epochs=epochs, shuffle=False, verbose=0, callbacks=cbs, **fit)
        made.append(cbs)
    return made


def batch_counter(K):
    class Counter(K.callbacks.Callback):  # Keras 2's hook names, as older programs write them
        def __init__(self):
            super().__init__()
            self.seen = []

        def on_batch_begin(self, batch, logs=None):
            self.seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            self.seen.append(("end", batch, sorted(logs)))
    return [Counter()]


def test_keras2_batch_hook_names_run_on_every_batch():
    ours, theirs = fit_both(batch_counter)
    assert ours[0].seen == theirs[0].seen
    assert len(ours[0].seen) == 2 * 3 * 3  # begin and end, 3 batches, 3 epochs


def lambda_recorder(K):
    events = []
    cb = K.callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: events.append(("epoch_begin", epoch)),
        on_train_batch_end=lambda batch, logs: events.append(("batch_end", batch, round(logs["loss"], 4))),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: events.append(("train_end",)),
        note="kept")
    cb.events = events
    return [cb]


def test_lambda_callback_calls_its_functions_as_keras_does():
    ours, theirs = fit_both(lambda_recorder, epochs=2)
    assert ours[0].events == theirs[0].events
    assert ours[0].note == theirs[0].note == "kept"
    with pytest.raises(TypeError, match="on_epoch_end"):
        nk.callbacks.LambdaCallback(on_epoch_end=3)


def read_csv(path, delimiter=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


@pytest.mark.parametrize("validation_freq", [1, 2])
def test_csv_logger_writes_keras_columns_and_rows(tmp_path, validation_freq):
    x, y = data(seed=1)
    paths = {K: str(tmp_path / f"{K.__name__}.csv") for K in (nk, keras)}
    fit_both(lambda K: [K.callbacks.CSVLogger(paths[K])], validation_data=(x, y), validation_freq=validation_freq)
    ours, theirs = read_csv(paths[nk]), read_csv(paths[keras])
    assert ours[0] == theirs[0]  # header: epoch, then the sorted names
    assert [r[0] for r in ours] == [r[0] for r in theirs]  # 0-based epochs
    for mine, keras_row in zip(ours[1:], theirs[1:]):
        for a, b in zip(mine[1:], keras_row[1:]):
            assert (a == "NA") == (b == "NA")
            if a != "NA":
                assert float(a) == pytest.approx(float(b), rel=1e-5, abs=1e-7)


def test_csv_logger_appends_without_a_second_header(tmp_path):
    path = str(tmp_path / "log.tsv")
    ours, _ = model_pair()
    x, y = data()
    for _ in range(2):
        ours.fit(x, y, epochs=2, verbose=0, callbacks=[nk.callbacks.CSVLogger(path, separator="\t", append=True)])
    rows = read_csv(path, "\t")
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "0", "1"] and all(r[3:] == ["NA", "NA"] for r in rows[1:])
    with pytest.raises(ValueError, match="separator"):
        nk.callbacks.CSVLogger(path, separator="::")


@pytest.mark.parametrize("threshold", [None, 0.0, 1e9])
def test_model_checkpoint_weights_only_and_initial_threshold_save_when_keras_does(tmp_path, threshold):
    def make(K):
        folder = tmp_path / K.__name__
        return [K.callbacks.ModelCheckpoint(str(folder / "w-{epoch}.weights.h5"), monitor="loss",
                                            save_best_only=True, save_weights_only=True,
                                            initial_value_threshold=threshold)]
    fit_both(make, epochs=4)
    ours, theirs = (sorted(os.listdir(tmp_path / K.__name__)) if (tmp_path / K.__name__).exists() else []
                    for K in (nk, keras))
    assert ours == theirs
    assert (ours == []) == (threshold == 0.0)  # a loss never beats 0; None and 1e9 let the first epoch save
    if ours:
        model, _ = model_pair()
        model.load_weights(str(tmp_path / "nnfast.keras" / ours[-1]))  # weights, loadable as such


def test_model_checkpoint_without_the_monitored_value_warns_and_saves_as_keras(tmp_path):
    def make(K):
        return [K.callbacks.ModelCheckpoint(str(tmp_path / K.__name__ / "m-{epoch}.keras"), save_best_only=True)]
    with pytest.warns(UserWarning):
        fit_both(make, epochs=2)  # no validation data: no val_loss
    assert sorted(os.listdir(tmp_path / "nnfast.keras")) == sorted(os.listdir(tmp_path / "keras")) == \
        ["m-1.keras", "m-2.keras"]


def diverging_pair():
    """A regression both libraries drive to an infinite loss within a few steps (equal weights)."""
    models = []
    for K in (nk, keras):
        m = K.Sequential([K.Input(shape=(6,)), K.layers.Dense(4), K.layers.Dense(1)])
        m.compile(optimizer=K.optimizers.SGD(1e4), loss="mse")
        models.append(m)
    models[1].set_weights(models[0].get_weights())
    return models


@pytest.mark.filterwarnings("ignore:overflow", "ignore:invalid value")
def test_terminate_on_nan_stops_at_the_batch_keras_stops_at(capsys):
    x, _ = data()
    y = (x.sum(axis=1, keepdims=True) * 100.0).astype(np.float32)
    results = []
    for K, model in zip((nk, keras), diverging_pair()):
        history = model.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0,
                            callbacks=[K.callbacks.TerminateOnNaN()])
        results.append((capsys.readouterr().out, history.history["loss"]))
    (ours, our_losses), (theirs, keras_losses) = results
    assert "Invalid loss, terminating training" in theirs  # the data do diverge
    assert ours.strip() == theirs.strip()  # "Batch B: ...", the same B
    assert len(our_losses) == len(keras_losses) == 1 and not np.isfinite(our_losses[0])
    model = diverging_pair()[0]
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch"):
        model.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0,
                  callbacks=[nk.callbacks.TerminateOnNaN(raise_error=True)])
    assert all(np.isfinite(w).all() for w in model.get_weights())  # nnfast never applies the failing step
    with pytest.raises(FloatingPointError):  # without the callback: nnfast's own stop
        diverging_pair()[0].fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)


def stopper(K):
    class StopAtSecondBatch(K.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = []

        def on_train_batch_end(self, batch, logs=None):
            self.batches.append(batch)
            if batch == 1:
                self.model.stop_training = True
    return [StopAtSecondBatch(), K.callbacks.History()]


def test_stop_training_set_in_a_batch_stops_after_that_batch_as_keras():
    ours, theirs = fit_both(stopper, epochs=3)
    assert ours[0].batches == theirs[0].batches == [0, 1]
    assert len(ours[1].history["loss"]) == len(theirs[1].history["loss"]) == 1


def test_learning_rate_numpy_and_assign_as_keras_programs_use_them():
    """``optimizer.learning_rate.numpy()`` and ``.assign(value)`` (fine-tuning code lowers the rate
    between fits this way) do what Keras 3's variable does; the rate still compares as a number."""
    for K in (nk, keras):
        opt = K.optimizers.Adam(0.01)
        assert opt.learning_rate.numpy().dtype == np.float32 and opt.learning_rate.numpy().shape == ()
        assert float(opt.learning_rate.numpy()) == pytest.approx(0.01, rel=1e-7)
        opt.learning_rate.assign(0.005)
        assert float(opt.learning_rate) == pytest.approx(0.005, rel=1e-7)
    ours, theirs = model_pair()
    x, y = data()
    for model in (ours, theirs):
        model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
        model.optimizer.learning_rate.assign(0.01)  # then train on with the lower rate
        model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert ours.optimizer.learning_rate == 0.01 and ours.optimizer.get_config()["learning_rate"] == 0.01
    with pytest.raises(ValueError, match="learning_rate"):
        ours.optimizer.learning_rate.assign(-1.0)


def test_fit_calls_the_test_hooks_around_validation_and_gives_on_train_end_the_last_logs():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 4)).astype(np.float32), rng.normal(size=(40, 1)).astype(np.float32)
    seen = {}
    for K in (nk, keras):
        calls = []

        class Hooks(K.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                calls.append("epoch_begin")

            def on_test_begin(self, logs=None):
                calls.append("test_begin")

            def on_test_end(self, logs=None):
                calls.append(("test_end", sorted(logs)))

            def on_epoch_end(self, epoch, logs=None):
                calls.append("epoch_end")

            def on_train_end(self, logs=None):
                calls.append(("train_end", sorted(logs or {})))

        model = K.Sequential([K.Input((4,)), K.layers.Dense(1)])
        model.compile("sgd", "mse", metrics=["mae"])
        model.fit(x, y, epochs=3, validation_data=(x[:8], y[:8]), validation_freq=2, verbose=0, callbacks=[Hooks()])
        seen[K] = calls
    assert seen[nk] == seen[keras]
    assert seen[nk][-1] == ("train_end", ["loss", "mae"])  # epoch 3 ran no validation


def binary_pair(metrics):
    """A compiled binary classifier in nnfast.keras and in Keras with equal weights; metrics(K)."""
    models = []
    for K in (nk, keras):
        m = K.Sequential([K.Input(shape=(6,)), K.layers.Dense(8, activation="relu"),
                          K.layers.Dense(1, activation="sigmoid")])
        m.compile(optimizer=K.optimizers.SGD(0.05), loss="binary_crossentropy", metrics=metrics(K))
        models.append(m)
    models[1].set_weights(models[0].get_weights())
    return models


def test_auto_mode_follows_each_compiled_metrics_direction_as_keras():
    """Keras's mode="auto" reads the compiled metric's direction: precision, recall, a renamed AUC,
    R2 and F1 are maximized, mae and mse minimized, whatever their names say."""
    names = ["precision", "rec", "roc", "r2_score", "f1", "mae", "my_mse", "accuracy", "loss"]

    def metrics(K):
        return [K.metrics.Precision(name="precision"), K.metrics.Recall(name="rec"), K.metrics.AUC(name="roc"),
                K.metrics.R2Score(), K.metrics.F1Score(average="micro", threshold=0.5, name="f1"), "mae",
                K.metrics.MeanSquaredError(name="my_mse"), "accuracy"]
    x, labels = data()
    y = (labels > 0).astype(np.float32).reshape(-1, 1)
    modes = {}
    for K, model in zip((nk, keras), binary_pair(metrics)):
        watchers = [K.callbacks.EarlyStopping(monitor="val_" + name, patience=5) for name in names]
        model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0, validation_data=(x, y), callbacks=watchers)
        if K is nk:
            modes[K] = [w.monitor.mode for w in watchers]
        else:
            modes[K] = ["max" if w.monitor_op is keras.ops.greater else "min" for w in watchers]
    assert modes[nk] == modes[keras]
    assert modes[nk] == ["max"] * 5 + ["min"] * 2 + ["max", "min"]


def test_early_stopping_on_val_precision_keeps_the_epoch_keras_keeps():
    x, labels = data(n=192, seed=4)
    y = (labels > 0).astype(np.float32).reshape(-1, 1)
    kept = {}
    for K, model in zip((nk, keras), binary_pair(lambda K: [K.metrics.Precision(name="prec")])):
        stop = K.callbacks.EarlyStopping(monitor="val_prec", patience=2, restore_best_weights=True)
        history = model.fit(x, y, epochs=8, batch_size=32, shuffle=False, verbose=0, validation_data=(x, y),
                            callbacks=[stop])
        kept[K] = (len(history.history["loss"]), stop.best_epoch, float(stop.best), history.history["val_prec"])
    assert kept[nk][:2] == kept[keras][:2]
    assert kept[nk][2] == pytest.approx(kept[keras][2], rel=1e-5)
    assert kept[nk][2] == max(kept[nk][3])  # the best is the largest precision, not the smallest


@pytest.mark.parametrize("make", [lambda K: K.callbacks.EarlyStopping(mode="maximum"),
                                  lambda K: K.callbacks.ReduceLROnPlateau(mode="up"),
                                  lambda K: K.callbacks.ModelCheckpoint("m.keras", mode="best")])
def test_an_unknown_mode_warns_and_falls_back_to_auto_as_keras(make):
    for K in (nk, keras):
        with pytest.warns(UserWarning, match="unknown, fallback to auto mode"):
            make(K)


def test_predict_in_a_batch_hook_keeps_the_epochs_running_metrics_as_keras():
    x, labels = data(n=150)
    y = (labels > 0).astype(np.float32).reshape(-1, 1)
    runs, start = {}, None
    for hooked in (False, True):
        for K, model in zip((nk, keras), binary_pair(lambda K: ["accuracy", "mae"])):
            start = start or model.get_weights()
            model.set_weights(start)

            class Hook(K.callbacks.Callback):
                def on_train_batch_end(self, batch, logs=None):
                    if hooked and batch == 2:
                        self.model.predict(x[:4], verbose=0)
                        self.model.predict_on_batch(x[:4])
            history = model.fit(x, y, batch_size=30, epochs=2, shuffle=False, verbose=0, callbacks=[Hook()])
            runs[K, hooked] = history.history
    for K in (nk, keras):
        assert runs[K, True] == runs[K, False]
    for key in ("accuracy", "mae", "loss"):
        np.testing.assert_allclose(runs[nk, True][key], runs[keras, True][key], rtol=1e-5)


def test_fit_calls_the_test_batch_hooks_of_its_validation_as_keras():
    x, y = data(n=40)
    seen = {}
    for K, model in zip((nk, keras), model_pair()):
        calls = []

        class Hooks(K.callbacks.Callback):
            def on_test_batch_begin(self, batch, logs=None):
                calls.append(("begin", batch))

            def on_test_batch_end(self, batch, logs=None):
                calls.append(("end", batch, sorted(logs), round(float(logs["loss"]), 5)))

        model.fit(x, y, epochs=2, batch_size=16, validation_data=(x[:20], y[:20]), validation_batch_size=8,
                  shuffle=False, verbose=0, callbacks=[Hooks()])
        seen[K] = calls
    assert [c[:3] for c in seen[nk]] == [c[:3] for c in seen[keras]]
    assert len(seen[nk]) == 2 * 2 * 3  # two epochs of three validation batches
    np.testing.assert_allclose([c[3] for c in seen[nk] if c[0] == "end"],
                               [c[3] for c in seen[keras] if c[0] == "end"], rtol=1e-4)


def test_validation_freq_as_a_list_validates_those_epochs_as_keras():
    x, y = data()
    histories = [model.fit(x, y, batch_size=32, epochs=4, shuffle=False, verbose=0, validation_data=(x[:32], y[:32]),
                           validation_freq=[1, 3]).history for model in model_pair()]
    assert [len(h["val_loss"]) for h in histories] == [2, 2]
    np.testing.assert_allclose(histories[0]["val_loss"], histories[1]["val_loss"], rtol=1e-5)
    with pytest.raises(ValueError, match="validation_freq item must be >= 1"):
        model_pair()[0].fit(x, y, epochs=1, verbose=0, validation_data=(x, y), validation_freq=[0])


def test_reduce_lr_on_plateau_takes_and_names_keyword_arguments_keras_ignores():
    keras.callbacks.ReduceLROnPlateau(epsilon=1e-3)
    with pytest.warns(UserWarning, match="ignores the argument.*epsilon"):
        cb = nk.callbacks.ReduceLROnPlateau(epsilon=1e-3)
    assert cb.monitor.min_delta == 1e-4  # Keras's default, not the ignored epsilon


def test_model_checkpoint_says_what_keras_says(tmp_path, capsys):
    said = {}
    for K, model in zip((nk, keras), model_pair()):
        x, y = data()
        folder = tmp_path / K.__name__
        model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0, validation_data=(x, y),
                  callbacks=[K.callbacks.ModelCheckpoint(str(folder / "best.keras"), save_best_only=True, verbose=1)])
        said[K] = [line.replace(str(folder), "F") for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert said[nk] == said[keras]
    assert any("finished saving model to F/best.keras" in line for line in said[nk])


def test_logs_and_history_list_their_names_in_keras_order():
    # Keras 3 sorts the names of its logs (python_utils.pythonify_logs), then adds the validation's:
    # callbacks, the history, verbose lines and CSV columns all show them in that order
    x, y = data()
    seen = []
    for K in (nk, keras):
        model = K.Sequential([K.Input(shape=(6,)), K.layers.Dense(6, activation="softmax")])  # top-5 needs 5
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      metrics=["sparse_top_k_categorical_accuracy", "accuracy"])
        order = []
        hooks = K.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs, order=order: order.append(("batch", list(logs))) if batch == 0 else None,
            on_epoch_end=lambda epoch, logs, order=order: order.append(("epoch", list(logs))))
        history = model.fit(x, y, batch_size=32, epochs=1, validation_split=0.25, shuffle=False, verbose=0,
                            callbacks=[hooks])
        order += [("history", list(history.history)),
                  ("evaluate", list(model.evaluate(x, y, verbose=0, return_dict=True))),
                  ("train_on_batch", list(model.train_on_batch(x, y, return_dict=True)))]
        seen.append(order)
    assert seen[0] == seen[1]
    assert seen[0][1] == ("epoch", ["accuracy", "loss", "sparse_top_k_categorical_accuracy", "val_accuracy",
                                    "val_loss", "val_sparse_top_k_categorical_accuracy"])


def test_fit_evaluate_and_predict_print_keras_3s_lines(capsys):
    # the bar's own bytes are compared in test_keras_utils; here which lines each call prints, with
    # numbers and times masked (the two models' weights and speeds differ)
    x, y = data(100)
    texts = []
    for K in (nk, keras):
        model = K.Sequential([K.Input(shape=(6,)), K.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=32, epochs=2, verbose=1)
        model.fit(x, y, batch_size=32, epochs=1, verbose=2)
        for verbose in (2, 1, 0, "auto"):
            model.evaluate(x, y, verbose=verbose)
            model.predict(x, verbose=verbose)
        model.evaluate(x, y)  # the default, "auto": the bar, as 1
        model.predict(x)
        model.predict_on_batch(x)  # no bar
        model.test_on_batch(x, y)
        out = re.sub(r"\x1b\[\d+m|\x08", "", capsys.readouterr().out)
        lines = [line.rstrip() for line in re.split(r"[\r\n]", out) if line.strip()]
        finals = [line for line in lines if re.match(r"(Epoch|4/4)", line)]  # drawn-over lines vary with speed
        texts.append([re.sub(r"\d+(\.\d+)?(e[-+]\d+)?(s|ms|us)?", "N", line) for line in finals])
    assert texts[0] == texts[1]
    assert texts[0][:3] == ["Epoch N/N", "N/N ━━━━━━━━━━━━━━━━━━━━ N N/step - accuracy: N - loss: N", "Epoch N/N"]
    assert "N/N - N - N/step - accuracy: N - loss: N" in texts[0] and "N/N - N - N/step" in texts[0]
