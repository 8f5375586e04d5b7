"""Callbacks driven by hand on a fake model: History, the progress bar, EarlyStopping,
LearningRateScheduler, ReduceLROnPlateau, ModelCheckpoint, and CallbackList dispatch."""
import re
import warnings

import numpy as np
import pytest

from nnfast import callbacks as cbs
from nnfast.utils import progbar

pytestmark = pytest.mark.filterwarnings("error")


class FakeOptimizer:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate


class FakeModel:
    """What callbacks may use of a model. get_weights returns the live arrays (no copies) and each
    fake epoch changes them in place, so a callback that keeps weights must copy them."""

    def __init__(self, learning_rate=0.1):
        self.weights = [np.zeros((2, 3)), np.zeros(3)]
        self.optimizer = FakeOptimizer(learning_rate)
        self.stop_training = False
        self.saved = []

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        for w, new in zip(self.weights, weights):
            w[...] = new

    def save(self, path):
        self.saved.append(path)


def fit(callbacks, epoch_logs, steps=2, model=None, verbose=0):
    """A minimal training loop: one epoch per entry of epoch_logs (dicts), stopping as fit does.
    The weights hold the epoch number after each epoch. Returns (model, History)."""
    model = model or FakeModel()
    cl = cbs.CallbackList(callbacks, model=model, add_history=True, add_progbar=bool(verbose),
                          verbose=verbose, epochs=len(epoch_logs), steps=steps)
    model.stop_training = False
    cl.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        cl.on_epoch_begin(epoch)
        for batch in range(steps):
            cl.on_train_batch_begin(batch)
            cl.on_train_batch_end(batch, {k: v for k, v in logs.items() if not k.startswith("val_")})
        for w in model.weights:
            w[...] = epoch
        cl.on_epoch_end(epoch, dict(logs))
        if model.stop_training:
            break
    cl.on_train_end()
    return model, cl.history


def losses(*values, name="val_loss"):
    return [{name: v} for v in values]


# --------------------------------------------------------------------------------------------------
# CallbackList and History
# --------------------------------------------------------------------------------------------------

HOOKS = [("on_train_begin", ()), ("on_train_end", ()), ("on_epoch_begin", (3,)), ("on_epoch_end", (3,)),
         ("on_train_batch_begin", (5,)), ("on_train_batch_end", (5,)), ("on_test_begin", ()),
         ("on_test_end", ()), ("on_test_batch_begin", (5,)), ("on_test_batch_end", (5,)),
         ("on_predict_begin", ()), ("on_predict_end", ()), ("on_predict_batch_begin", (5,)),
         ("on_predict_batch_end", (5,))]


class Recorder(cbs.Callback):
    """Records every hook call as (tag, hook name, arguments)."""

    def __init__(self, calls, tag):
        self.calls, self.tag = calls, tag

    def __getattribute__(self, name):
        if name.startswith("on_"):
            return lambda *args: self.calls.append((self.tag, name, args))
        return super().__getattribute__(name)


@pytest.mark.parametrize("hook,args", HOOKS)
def test_callback_list_calls_every_hook_on_all_in_order_with_one_logs_dict(hook, args):
    calls = []
    cl = cbs.CallbackList([Recorder(calls, "a"), Recorder(calls, "b")])
    logs = {"loss": 1.0}
    getattr(cl, hook)(*args, logs)
    assert calls == [("a", hook, (*args, logs)), ("b", hook, (*args, logs))]
    assert calls[0][2][-1] is calls[1][2][-1] is logs
    calls.clear()
    getattr(cl, hook)(*args)  # no logs: every callback gets the same new dict
    assert calls[0][2][-1] == {} and calls[0][2][-1] is calls[1][2][-1]


def test_base_callback_hooks_are_no_ops():
    cb = cbs.Callback()
    for hook, args in HOOKS:
        assert getattr(cb, hook)(*args, {}) is None
    assert cb.model is None and cb.params == {}


def test_callback_list_sets_model_and_params_and_orders_defaults_after_user_callbacks():
    model, user = FakeModel(), cbs.Callback()
    cl = cbs.CallbackList([user], model=model, add_history=True, add_progbar=True,
                          verbose=1, epochs=3, steps=7)
    assert cl.callbacks[0] is user
    assert isinstance(cl.callbacks[1], cbs.History) and cl.callbacks[1] is cl.history
    assert isinstance(cl.callbacks[2], cbs.ProgbarLogger) and cl.callbacks[2] is cl.progbar
    assert all(cb.model is model for cb in cl.callbacks)
    assert user.params == {"verbose": 1, "epochs": 3, "steps": 7}
    assert model.history is cl.history


def test_callback_list_reuses_a_given_history_and_accepts_one_callback():
    history = cbs.History()
    cl = cbs.CallbackList([history], add_history=True)
    assert cl.callbacks == [history] and cl.history is history
    assert cbs.CallbackList(history).callbacks == [history]
    empty = cbs.CallbackList()
    assert empty.callbacks == [] and empty.history is None and empty.progbar is None


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="Callback"):
        cbs.CallbackList([lambda logs: None])


def test_history_collects_epoch_logs():
    logs = [{"loss": 0.5, "mae": 0.4}, {"loss": 0.25, "mae": 0.3}, {"loss": 0.125, "mae": 0.2}]
    model, history = fit([], logs)
    assert history.history == {"loss": [0.5, 0.25, 0.125], "mae": [0.4, 0.3, 0.2]}
    assert history.epoch == [0, 1, 2]
    assert model.history is history


# --------------------------------------------------------------------------------------------------
# progress bar
# --------------------------------------------------------------------------------------------------

def plain(text):
    """Terminal output without its colour and bold codes."""
    return re.sub(r"\x1b\[\d+m", "", text)


def test_progbar_verbose_1_shows_epochs_bar_timing_and_values(capsys):
    fit([], [{"loss": 0.5, "mae": 0.25, "val_loss": 0.75}, {"loss": 0.0001, "mae": 0.2, "val_loss": 0.5}],
        steps=3, verbose=1)
    out = plain(capsys.readouterr().out)
    assert out.startswith("Epoch 1/2\n") and "\nEpoch 2/2\n" in out
    finals = re.findall(r"3/3 ━{20} \d+s \d+(?:s|ms|us)/step - [^\r\n]*\n", out)
    assert len(finals) == 2, out
    assert finals[0].endswith(" - loss: 0.5000 - mae: 0.2500 - val_loss: 0.7500\n")
    assert finals[1].endswith(" - loss: 1.0000e-04 - mae: 0.2000 - val_loss: 0.5000\n")
    assert re.search(r"\r1/3 ━{20} \d+s \d+(?:s|ms|us)/step", out)  # the first batch of an epoch is always drawn


def test_progbar_verbose_2_prints_one_line_per_epoch(capsys):
    fit([], [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}], steps=3, verbose=2)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(r"3/3 - \d+s - \d+(s|ms|us)/step - loss: 0\.5000 - val_loss: 0\.7500", lines[1])
    assert re.fullmatch(r"3/3 - \d+s - \d+(s|ms|us)/step - loss: 0\.2500 - val_loss: 0\.5000", lines[3])
    assert len(lines) == 4 and "[" not in out and "\r" not in out


def test_progbar_verbose_0_prints_nothing(capsys):
    fit([], [{"loss": 0.5}, {"loss": 0.25}], steps=3, verbose=0)
    model = FakeModel()
    cl = cbs.CallbackList([cbs.ProgbarLogger()], model=model, verbose=0, epochs=2, steps=3)
    cl.on_epoch_begin(0)
    cl.on_train_batch_end(0, {"loss": 1.0})
    cl.on_epoch_end(0, {"loss": 1.0})
    assert capsys.readouterr().out == ""


def test_progbar_single_epoch_has_no_epoch_line(capsys):
    fit([], [{"loss": 0.5}], steps=3, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch" not in out and "3/3 ━" in plain(out)


def test_progbar_logger_ends_the_line_of_an_interrupted_epoch(capsys):
    cl = cbs.CallbackList([], model=FakeModel(), add_progbar=True, verbose=1, epochs=1, steps=10)
    cl.on_train_begin()
    cl.on_epoch_begin(0)
    cl.on_train_batch_end(0, {"loss": 0.5})
    cl.on_train_end()  # as fit does after a KeyboardInterrupt
    out = capsys.readouterr().out
    assert plain(out).startswith("\r 1/10 ━") and out.endswith("loss: 0.5000\n")
    cl.on_train_end()
    assert capsys.readouterr().out == ""


def test_progbar_throttles_intermediate_updates_but_always_shows_the_last(capsys):
    bar = cbs.Progbar(10, interval=3600)
    for step in range(1, 11):
        bar.update(step, {"loss": 1.0 / step})
    out = plain(capsys.readouterr().out)
    assert out.count("\r") == 2  # the first update, then the final one
    assert " 1/10 ━" in out and "10/10 ━" in out and out.endswith("loss: 0.1000\n")


def test_progbar_pads_a_shorter_redraw_and_keeps_value_order(capsys):
    bar = cbs.Progbar(4, interval=0, stateful_metrics=["loss", "note"])  # shown as given
    bar.update(1, [("loss", 123456.0), ("note", "warm")])
    bar.update(2, {"loss": 1.0})
    first, second = plain(capsys.readouterr().out).split("\r")[1:]
    line = first.rstrip("\b")
    assert "loss: 123456.0000 - note: warm" in line and "loss: 1.0000 - note: warm" in second
    assert first == line + "\b" * len(line)  # the next draw backspaces over the whole line
    assert len(second) >= len(line)  # and pads over what was longer


def test_progbar_averages_values_not_named_stateful_as_keras(capsys):
    bar = cbs.Progbar(10, interval=0)
    bar.update(2, [("loss", 1.0)])   # 2 steps at 1.0
    bar.update(4, [("loss", 4.0)])   # 2 steps at 4.0
    bar.update(10, [("loss", 7.0)])  # the final update shows what it is given
    lines = plain(capsys.readouterr().out).split("\r")[1:]
    assert [line.rstrip("\b \n").rsplit(" - ", 1)[1] for line in lines] == ["loss: 1.0000", "loss: 2.5000",
                                                                               "loss: 7.0000"]


def test_progbar_unknown_target_and_add(capsys):
    bar = cbs.Progbar(None, interval=0)
    bar.add(3, {"loss": 0.0})
    bar.add(2)
    bar.update(5, finalize=True)
    out = capsys.readouterr().out
    assert "      3/Unknown" in out and "      5/Unknown" in out and "loss: 0.0000e+00" in out
    assert out.endswith("\n")


def test_progbar_rejects_bad_verbose():
    with pytest.raises(ValueError, match="verbose"):
        cbs.Progbar(10, verbose=3)


def test_progbar_logger_shows_evaluate_and_predict_but_not_validation_inside_fit(capsys):
    model = FakeModel()
    cl = cbs.CallbackList([], model=model, add_progbar=True, verbose=1, epochs=1, steps=2)
    cl.on_test_begin()
    cl.on_test_batch_end(0, {"loss": 0.5})
    cl.on_test_batch_end(1, {"loss": 0.25})
    cl.on_test_end({"loss": 0.25})
    out = plain(capsys.readouterr().out)
    assert "2/2 ━" in out and out.endswith("loss: 0.2500\n")

    cl.on_predict_begin()
    cl.on_predict_batch_end(0, {"outputs": 1})
    cl.on_predict_end()
    out = plain(capsys.readouterr().out)
    assert "2/2 ━" in out and "outputs" not in out

    cl.on_train_begin()
    cl.on_test_begin()
    cl.on_test_batch_end(0, {"loss": 0.5})
    cl.on_test_end({"loss": 0.5})
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (7.9, "7s"), (61, "1:01"), (3725, "1:02:05")])
def test_eta_format(seconds, text):
    assert progbar.format_eta(seconds) == text


@pytest.mark.parametrize("seconds,text", [(2.4, "2s/step"), (0.0123, "12ms/step"), (0.000987, "987us/step")])
def test_time_per_step_format(seconds, text):
    assert progbar.format_per_step(seconds, "step") == text


@pytest.mark.parametrize("value,text", [(0.01, " 0.0100"), (-2.5, " -2.5000"), (1e-3, " 1.0000e-03"),
                                        (np.float32(0.5), " 0.5000"), (np.array(3.0), " 3.0000"),
                                        (float("nan"), " nan"), ("text", " text")])
def test_value_format(value, text):
    assert progbar.format_value(value) == text


# --------------------------------------------------------------------------------------------------
# EarlyStopping
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("patience,values,stopped", [
    (0, (1.0, 0.8, 0.9, 0.7), 2),
    (2, (1.0, 0.8, 0.9, 0.85, 0.7), 3),
    (2, (1.0, 0.8, 0.9, 0.7, 0.75, 0.72, 0.6), 5),
    (3, (1.0, 0.9, 0.8, 0.7), None),
])
def test_early_stopping_min_mode_patience(patience, values, stopped):
    es = cbs.EarlyStopping(patience=patience)
    model, history = fit([es], losses(*values))
    ran = len(values) if stopped is None else stopped + 1
    assert history.epoch == list(range(ran))
    assert model.stop_training == (stopped is not None)
    assert es.stopped_epoch == (stopped or 0)


def test_early_stopping_max_mode_inferred_from_accuracy_and_auc():
    for name in ("val_accuracy", "acc", "auc", "val_auc_1"):
        es = cbs.EarlyStopping(monitor=name, patience=1)
        model, history = fit([es], losses(0.5, 0.6, 0.55, 0.7, name=name))
        assert history.epoch == [0, 1, 2], name
        assert es.best == 0.6


def test_early_stopping_explicit_max_mode_on_a_loss():
    es = cbs.EarlyStopping(monitor="loss", mode="max", patience=0)
    _, history = fit([es], losses(1.0, 2.0, 1.5, 3.0, name="loss"))
    assert history.epoch == [0, 1, 2]


def test_early_stopping_min_delta_counts_small_changes_as_no_improvement():
    values = (1.0, 0.995, 0.99, 0.985)
    _, history = fit([cbs.EarlyStopping(min_delta=0.01, patience=1)], losses(*values))
    assert history.epoch == [0, 1]
    _, history = fit([cbs.EarlyStopping(min_delta=-0.01, patience=1)], losses(*values))  # sign ignored
    assert history.epoch == [0, 1]
    _, history = fit([cbs.EarlyStopping(min_delta=0.001, patience=1)], losses(*values))
    assert history.epoch == [0, 1, 2, 3]


def test_early_stopping_min_delta_in_max_mode():
    es = cbs.EarlyStopping(monitor="val_acc", min_delta=0.05, patience=0)
    _, history = fit([es], losses(0.5, 0.56, 0.6, 0.7, name="val_acc"))
    assert history.epoch == [0, 1, 2]


def test_early_stopping_restores_best_weights_when_stopped():
    es = cbs.EarlyStopping(patience=2, restore_best_weights=True)
    model, history = fit([es], losses(1.0, 0.5, 0.7, 0.8, 0.9))
    assert history.epoch == [0, 1, 2, 3]
    assert es.best_epoch == 1
    assert all(np.all(w == 1) for w in model.weights)  # the weights after epoch 1, not epoch 3


def test_early_stopping_restores_best_weights_at_train_end_without_stopping():
    es = cbs.EarlyStopping(patience=5, restore_best_weights=True)
    model, _ = fit([es], losses(1.0, 0.5, 0.7))
    assert not model.stop_training
    assert all(np.all(w == 1) for w in model.weights)


def test_early_stopping_keeps_last_weights_without_restore():
    model, _ = fit([cbs.EarlyStopping(patience=1)], losses(1.0, 0.5, 0.7, 0.8))
    assert all(np.all(w == 2) for w in model.weights)


def test_early_stopping_baseline_must_be_beaten_to_reset_patience():
    _, history = fit([cbs.EarlyStopping(patience=2)], losses(0.9, 0.95, 0.95, 0.95))
    assert history.epoch == [0, 1, 2]
    _, history = fit([cbs.EarlyStopping(patience=2, baseline=0.5)], losses(0.9, 0.95, 0.95, 0.95))
    assert history.epoch == [0, 1]
    _, history = fit([cbs.EarlyStopping(patience=2, baseline=0.95)], losses(0.9, 0.95, 0.95, 0.95))
    assert history.epoch == [0, 1, 2]


def test_early_stopping_start_from_epoch_ignores_warm_up():
    es = cbs.EarlyStopping(patience=0, start_from_epoch=2)
    _, history = fit([es], losses(1.0, 2.0, 3.0, 2.5, 2.6))
    assert history.epoch == [0, 1, 2, 3, 4]
    assert es.best == 2.5


def test_early_stopping_is_reusable_across_fits():
    es = cbs.EarlyStopping(patience=0)
    fit([es], losses(1.0, 2.0))
    _, history = fit([es], losses(5.0, 4.0, 4.5))
    assert history.epoch == [0, 1, 2] and es.best == 4.0


def test_early_stopping_missing_monitor_warns_once_and_does_nothing():
    es = cbs.EarlyStopping(monitor="val_loss", patience=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, history = fit([es], losses(1.0, 2.0, 3.0, name="loss"))
    assert [w.category for w in caught] == [UserWarning]
    assert "val_loss" in str(caught[0].message) and "loss" in str(caught[0].message)
    assert history.epoch == [0, 1, 2] and not model.stop_training
    with pytest.warns(UserWarning, match="val_loss"):  # once per training run
        fit([es], losses(1.0, name="loss"))


def test_early_stopping_verbose_messages(capsys):
    fit([cbs.EarlyStopping(patience=0, verbose=1, restore_best_weights=True)], losses(1.0, 2.0))
    out = capsys.readouterr().out
    assert "Epoch 2: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 1." in out


# --------------------------------------------------------------------------------------------------
# LearningRateScheduler
# --------------------------------------------------------------------------------------------------

def test_learning_rate_scheduler_sets_and_logs_the_rate():
    seen = []

    def halve_after_first(epoch, lr):
        seen.append((epoch, lr))
        return lr if epoch == 0 else lr * 0.5

    model, history = fit([cbs.LearningRateScheduler(halve_after_first)], losses(1.0, 1.0, 1.0))
    assert seen == [(0, 0.1), (1, 0.1), (2, 0.05)]
    assert model.optimizer.learning_rate == 0.025
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]


def test_learning_rate_scheduler_accepts_a_one_argument_schedule(capsys):
    model, _ = fit([cbs.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1), verbose=1)], losses(1.0, 1.0))
    assert model.optimizer.learning_rate == 0.02
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.02." in capsys.readouterr().out


@pytest.mark.parametrize("bad", [None, "0.1", -0.1, float("nan"), float("inf"), True])
def test_learning_rate_scheduler_rejects_a_bad_schedule_result(bad):
    model = FakeModel()
    with pytest.raises(ValueError, match="schedule"):
        fit([cbs.LearningRateScheduler(lambda epoch, lr: bad)], losses(1.0), model=model)
    assert model.optimizer.learning_rate == 0.1


def test_learning_rate_scheduler_argument_and_optimizer_checks():
    with pytest.raises(TypeError, match="schedule"):
        cbs.LearningRateScheduler(0.1)
    model = FakeModel(learning_rate=lambda step: 0.1)
    with pytest.raises(TypeError, match="float learning rate"):
        fit([cbs.LearningRateScheduler(lambda epoch, lr: lr)], losses(1.0), model=model)


# --------------------------------------------------------------------------------------------------
# ReduceLROnPlateau
# --------------------------------------------------------------------------------------------------

def test_reduce_lr_after_patience():
    model, history = fit([cbs.ReduceLROnPlateau(factor=0.5, patience=2)], losses(*[1.0] * 7))
    # logged before each epoch's decision: reductions after epochs 2, 4 and 6
    assert history.history["learning_rate"] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert model.optimizer.learning_rate == 0.0125


def test_reduce_lr_improvement_resets_the_wait():
    model, _ = fit([cbs.ReduceLROnPlateau(factor=0.5, patience=2)], losses(1.0, 1.0, 0.9, 0.9, 0.8))
    assert model.optimizer.learning_rate == 0.1


def test_reduce_lr_min_delta():
    values = (1.0, 0.99996, 0.99994, 0.99992)
    model, _ = fit([cbs.ReduceLROnPlateau(factor=0.5, patience=3)], losses(*values))  # default min_delta 1e-4
    assert model.optimizer.learning_rate == 0.05
    model, _ = fit([cbs.ReduceLROnPlateau(factor=0.5, patience=3, min_delta=1e-5)], losses(*values))
    assert model.optimizer.learning_rate == 0.1


def test_reduce_lr_cooldown_delays_the_next_wait():
    _, history = fit([cbs.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2)], losses(*[1.0] * 7))
    # reduced after epoch 2; epochs 3 and 4 cool down (the wait restarts at epoch 4); reduced after 5
    assert history.history["learning_rate"] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]


def test_reduce_lr_stops_at_min_lr():
    model, history = fit([cbs.ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.002)], losses(*[1.0] * 5))
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.01, 0.002, 0.002])
    assert model.optimizer.learning_rate == 0.002


def test_reduce_lr_max_mode_and_verbose(capsys):
    model, _ = fit([cbs.ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1, verbose=1)],
                   losses(0.5, 0.7, 0.6, name="val_accuracy"))
    assert model.optimizer.learning_rate == 0.05
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.05." in capsys.readouterr().out


def test_reduce_lr_missing_monitor_warns_once():
    with pytest.warns(UserWarning, match="ReduceLROnPlateau.*val_loss"):
        model, history = fit([cbs.ReduceLROnPlateau(patience=0)], losses(1.0, 1.0, 1.0, name="loss"))
    assert model.optimizer.learning_rate == 0.1 and history.history["learning_rate"] == [0.1] * 3


# --------------------------------------------------------------------------------------------------
# ModelCheckpoint
# --------------------------------------------------------------------------------------------------

def test_model_checkpoint_formats_names_and_creates_folders(tmp_path):
    pattern = str(tmp_path / "ckpt" / "m-{epoch:02d}-{val_loss:.2f}.npz")
    model, _ = fit([cbs.ModelCheckpoint(pattern)], losses(0.5, 0.25, 0.75))
    assert model.saved == [str(tmp_path / "ckpt" / name)
                           for name in ("m-01-0.50.npz", "m-02-0.25.npz", "m-03-0.75.npz")]
    assert (tmp_path / "ckpt").is_dir()


def test_model_checkpoint_save_best_only(capsys):
    ckpt = cbs.ModelCheckpoint("best-{epoch}.npz", save_best_only=True, verbose=1)
    model, _ = fit([ckpt], losses(1.0, 0.9, 0.95, 0.5))
    assert model.saved == ["best-1.npz", "best-2.npz", "best-4.npz"]
    out = capsys.readouterr().out
    assert "Epoch 2: val_loss improved from 1.00000 to 0.90000, saving model to best-2.npz" in out
    assert "Epoch 3: val_loss did not improve from 0.90000" in out


def test_model_checkpoint_save_best_only_max_mode():
    ckpt = cbs.ModelCheckpoint("m.npz", monitor="val_acc", save_best_only=True)
    model, _ = fit([ckpt], losses(0.5, 0.4, 0.6, name="val_acc"))
    assert model.saved == ["m.npz", "m.npz"]


def test_model_checkpoint_every_n_batches():
    ckpt = cbs.ModelCheckpoint("m-{epoch}-{batch}.npz", save_freq=2)
    model, _ = fit([ckpt], losses(1.0, 1.0), steps=3)
    assert model.saved == ["m-1-2.npz", "m-2-1.npz", "m-2-3.npz"]


def test_model_checkpoint_missing_field_is_a_key_error():
    with pytest.raises(KeyError, match="val_acc"):
        fit([cbs.ModelCheckpoint("m-{val_acc:.2f}.npz")], losses(1.0))


def test_model_checkpoint_missing_monitor_saves_with_one_warning():
    """As Keras 3: save_best_only without the monitored value saves every time (one warning a run)."""
    with pytest.warns(UserWarning, match="ModelCheckpoint.*val_loss.*saved anyway") as caught:
        model, _ = fit([cbs.ModelCheckpoint("m.npz", save_best_only=True)], losses(1.0, 0.5, name="loss"))
    assert model.saved == ["m.npz", "m.npz"]
    assert len([w for w in caught if "ModelCheckpoint" in str(w.message)]) == 1


def test_model_checkpoint_initial_value_threshold_is_the_first_best(capsys):
    ckpt = cbs.ModelCheckpoint("m-{epoch}.npz", save_best_only=True, initial_value_threshold=0.8, verbose=1)
    model, _ = fit([ckpt], losses(1.0, 0.9, 0.7, 0.75))
    assert model.saved == ["m-3.npz"]
    assert "Epoch 1: val_loss did not improve from 0.80000" in capsys.readouterr().out
    none_first = cbs.ModelCheckpoint("m.npz", save_best_only=True, verbose=1)
    fit([none_first], losses(1.0))
    assert "Epoch 1: val_loss improved from None to 1.00000, saving model to m.npz" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make,error,name", [
    (lambda: cbs.EarlyStopping(patience=-1), ValueError, "patience"),
    (lambda: cbs.EarlyStopping(patience=1.5), TypeError, "patience"),
    (lambda: cbs.EarlyStopping(start_from_epoch=-1), ValueError, "start_from_epoch"),
    (lambda: cbs.EarlyStopping(min_delta="0.1"), TypeError, "min_delta"),
    (lambda: cbs.EarlyStopping(monitor=None), TypeError, "monitor"),
    (lambda: cbs.ReduceLROnPlateau(factor=1.0), ValueError, "factor"),
    (lambda: cbs.ReduceLROnPlateau(factor=1.5), ValueError, "factor"),
    (lambda: cbs.ReduceLROnPlateau(factor=-0.1), ValueError, "factor"),
    (lambda: cbs.ReduceLROnPlateau(patience=-1), ValueError, "patience"),
    (lambda: cbs.ReduceLROnPlateau(cooldown=-2), ValueError, "cooldown"),
    (lambda: cbs.ReduceLROnPlateau(min_lr=-1e-3), ValueError, "min_lr"),
    (lambda: cbs.ModelCheckpoint("m.npz", save_freq=0), ValueError, "save_freq"),
    (lambda: cbs.ModelCheckpoint("m.npz", save_freq="batch"), TypeError, "save_freq"),
    (lambda: cbs.ModelCheckpoint("m.npz", initial_value_threshold="1"), TypeError, "initial_value_threshold"),
    (lambda: cbs.CSVLogger("log.csv", separator=1), TypeError, "separator"),
])
def test_bad_arguments_are_named(make, error, name):
    with pytest.raises(error, match=name):
        make()
