"""Training callbacks with Keras 3 names and behaviour, and the Keras-style progress bar.

A callback is a :class:`Callback` subclass that overrides some of the hooks ``on_train_begin/end``,
``on_epoch_begin/end``, ``on_train_batch_begin/end``, ``on_test_*`` and ``on_predict_*``. Epoch and
batch indices are 0-based; ``logs`` is a dict (name -> float) that every callback of one
:class:`CallbackList` receives as the same object, so one callback may add entries for the next ones
(LearningRateScheduler and ReduceLROnPlateau add ``"learning_rate"`` at epoch end, as in Keras 3).
Batch logs hold the running means of the epoch so far; the progress bar shows them as given.

What a callback may use of the model: ``model.stop_training`` (the training loop reads it after
each epoch), ``model.get_weights()`` / ``model.set_weights(list)``, ``model.save(path)``,
``model.optimizer.learning_rate`` (a float; settable) and ``model.history`` (set by History).

Order in a CallbackList (as Keras 3): the user's callbacks, then History, then the progress bar, so
History records what the user's callbacks added to the epoch logs.

Callbacks that watch a logged quantity (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint) share one
rule: ``mode="auto"`` means "max" when the name without ``val_`` contains "acc" or starts with "auc",
else "min"; an improvement must beat the best value by more than ``|min_delta|``; a quantity missing
from the logs gives one UserWarning per training run and the callback then does nothing that epoch.
"""

import inspect
import math
import numbers
import os
import sys
import time
import warnings

import numpy as np

__all__ = ["Callback", "CallbackList", "History", "Progbar", "ProgbarLogger", "EarlyStopping",
           "LearningRateScheduler", "ModelCheckpoint", "ReduceLROnPlateau"]


# --------------------------------------------------------------------------------------------------
# base class and the list that dispatches to many callbacks
# --------------------------------------------------------------------------------------------------

class Callback:
    """Base class of callbacks: every hook is a no-op; ``model`` and ``params`` are set by CallbackList.

    ``needs_every_batch`` (True): whether the per-batch training hooks must see every batch. A
    callback that only shows the latest state (the progress bar) sets it False; ``fit`` may then
    train runs of batches natively and call ``on_train_batch_end`` once per run, for its last batch.
    """

    model = None
    params = {}
    needs_every_batch = True

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        """``params``: dict with ``epochs``, ``steps`` (per epoch, None if unknown) and ``verbose``."""
        self.params = dict(params)

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


class CallbackList(Callback):
    """Calls each hook on every callback, in order, with one shared ``logs`` dict.

    ``add_history`` / ``add_progbar`` append a History / ProgbarLogger unless one is already in
    ``callbacks``; they are available as ``.history`` and ``.progbar`` (None when absent). Extra
    keyword arguments (``verbose``, ``epochs``, ``steps``) are passed to every ``set_params``.
    """

    def __init__(self, callbacks=None, model=None, add_history=False, add_progbar=False, **params):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be nnfast.callbacks.Callback instances, got {cb!r}")
        self.history = self._find_or_add(History, add_history)
        self.progbar = self._find_or_add(ProgbarLogger, add_progbar)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def _find_or_add(self, cls, add):
        found = next((cb for cb in self.callbacks if isinstance(cb, cls)), None)
        if found is None and add:
            found = cls()
            self.callbacks.append(found)
        return found

    def set_model(self, model):
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def wants_batch_hooks(self, every_batch=False):
        """Whether any callback overrides a per-batch training hook (else the loop skips them); with
        ``every_batch``, only callbacks that need to see every batch count."""
        hooks = ("on_train_batch_begin", "on_train_batch_end")
        return any(getattr(type(cb), h) is not getattr(Callback, h) and (cb.needs_every_batch or not every_batch)
                   for cb in self.callbacks for h in hooks)

    def _dispatch(self, hook, *args, logs):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)

    def on_train_begin(self, logs=None):
        self._dispatch("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._dispatch("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._dispatch("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._dispatch("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._dispatch("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._dispatch("on_train_batch_end", batch, logs=logs)

    def on_test_begin(self, logs=None):
        self._dispatch("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._dispatch("on_test_end", logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._dispatch("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._dispatch("on_test_batch_end", batch, logs=logs)

    def on_predict_begin(self, logs=None):
        self._dispatch("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._dispatch("on_predict_end", logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._dispatch("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._dispatch("on_predict_batch_end", batch, logs=logs)


# --------------------------------------------------------------------------------------------------
# History and the progress bar
# --------------------------------------------------------------------------------------------------

class History(Callback):
    """Records the epoch logs: ``history[name]`` is the list of per-epoch values, ``epoch`` the indices.

    As Keras, ``epoch`` is cleared at each training start and ``history`` keeps growing.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def set_model(self, model):
        super().set_model(model)
        model.history = self

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)


def _write(text):
    """Write to the current sys.stdout (whatever it is at the time) and flush."""
    sys.stdout.write(text)
    sys.stdout.flush()


def _format_value(value):
    """' 0.1234', or ' 1.2346e-05' when |value| <= 1e-3 (Keras' rule); non-numbers as str."""
    if isinstance(value, (numbers.Real, np.generic, np.ndarray)) and np.ndim(value) == 0:
        try:
            x = float(value)
        except (TypeError, ValueError):
            return f" {value}"
        return f" {x:.4f}" if abs(x) > 1e-3 else f" {x:.4e}"
    return f" {value}"


def _format_per_step(seconds, unit):
    """'3s/step', '12ms/step' or '870us/step'."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _format_eta(seconds):
    """'1:02:03', '2:03' or '7s'."""
    s = int(seconds)
    if s > 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if s > 60:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s}s"


class Progbar:
    """A Keras-style progress bar written to ``sys.stdout``.

    verbose=1 redraws one line in place (``\\r``), at most every ``interval`` seconds except for the
    final update, which always shows and ends the line::

        12/32 [==========>...................] - ETA: 0s - loss: 0.0512
        32/32 [==============================] - 0s 1ms/step - loss: 0.0100 - mae: 0.0835

    verbose=2 writes only the final line, ``32/32 - 0s - 1ms/step - loss: 0.0100``; verbose=0 nothing.
    ``values`` (a dict or (name, value) pairs) are shown as given; names keep their first-seen order.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, unit_name="step"):
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._values = {}
        self._start = time.perf_counter()
        self._last_update = None
        self._line_width = 0
        self._seen = 0

    def update(self, current, values=None, finalize=None):
        """Show progress ``current`` (steps done); ``finalize`` defaults to ``current >= target``."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._values.update(values or {})
        self._seen = current
        if self.verbose == 0 or (self.verbose == 2 and not finalize):
            return
        now = time.perf_counter()
        if not finalize and self._last_update is not None and now - self._last_update < self.interval:
            return
        self._last_update = now
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        if self.verbose == 1:
            self._redraw(current, elapsed, per_step, finalize)
        else:
            count = self._counter(current)
            _write(f"{count} - {elapsed:.0f}s - {_format_per_step(per_step, self.unit_name)}"
                        f"{self._format_values()}\n")

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self.update(self._seen + n, values)

    def end_line(self):
        """End a line left unfinished (training interrupted mid-epoch), so later output starts afresh."""
        if self._line_width:
            _write("\n")
            self._line_width = 0

    def _redraw(self, current, elapsed, per_step, finalize):
        if finalize:
            timing = f" - {elapsed:.0f}s {_format_per_step(per_step, self.unit_name)}"
        elif self.target is not None:
            timing = f" - ETA: {_format_eta(per_step * (self.target - current))}"
        else:
            timing = ""
        line = self._counter(current) + self._bar(current) + timing + self._format_values()
        padding = " " * max(0, self._line_width - len(line))
        self._line_width = 0 if finalize else len(line)
        _write("\r" + line + padding + ("\n" if finalize else ""))

    def _counter(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        return f"{current:{len(str(self.target))}d}/{self.target}"

    def _bar(self, current):
        if self.target is None:
            return ""
        done = min(self.width, int(self.width * current / self.target) if self.target else self.width)
        head = (">" if current < self.target else "=") if done else ""
        return " [" + "=" * max(0, done - 1) + head + "." * (self.width - done) + "]"

    def _format_values(self):
        return "".join(f" - {name}:{_format_value(v)}" for name, v in self._values.items())



class ProgbarLogger(Callback):
    """Shows a :class:`Progbar` per epoch (``verbose`` from the params: 0, 1 or 2; "auto" means 1).

    With ``epochs > 1`` each epoch opens with an ``Epoch 3/50`` line (Keras 3). Inside ``fit`` the
    validation pass is silent; ``evaluate`` and ``predict`` get a bar of their own.
    """

    needs_every_batch = False  # it shows the latest step and logs: one update per run of batches is enough

    def __init__(self):
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self.seen = 0
        self.progbar = None
        self._in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _start(self):
        self.seen = 0
        self.progbar = Progbar(self.target, verbose=self.verbose)

    def _advance(self, batch, logs):
        if self.progbar is None:
            self._start()
        self.seen = batch + 1
        self.progbar.update(self.seen, logs, finalize=False)

    def _finish(self, logs):
        if self.progbar is None:
            self._start()
        if self.progbar.target is None:
            self.progbar.target = self.seen
        self.progbar.update(self.progbar.target, logs, finalize=True)
        self.progbar = None

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False
        if self.progbar is not None:  # an epoch that did not finish (KeyboardInterrupt)
            self.progbar.end_line()
            self.progbar = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            _write(f"Epoch {epoch + 1}/{self.epochs}\n")
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self._advance(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._advance(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._advance(batch, None)

    def on_predict_end(self, logs=None):
        self._finish(None)


# --------------------------------------------------------------------------------------------------
# argument checks and the monitored quantity
# --------------------------------------------------------------------------------------------------

def _check_int(name, value, lo=0):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < lo:
        raise ValueError(f"{name} must be >= {lo}, got {value!r}")
    return int(value)


def _check_real(name, value, lo=-math.inf, hi=math.inf, hi_open=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not (lo <= v <= hi) or (hi_open and v == hi):
        raise ValueError(f"{name} must be in [{lo:g}, {hi:g}{')' if hi_open else ']'}, got {value!r}")
    return v


class _Monitor:
    """The logged quantity a callback watches, which direction is better, and by how much it must move."""

    MODES = ("auto", "min", "max")

    def __init__(self, owner, name, mode="auto", min_delta=0.0):
        if not isinstance(name, str):
            raise TypeError(f"monitor must be a str, got {name!r}")
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of 'auto', 'min', 'max', got {mode!r}")
        if mode == "auto":
            base = name[4:] if name.startswith("val_") else name
            mode = "max" if "acc" in base or base.startswith("auc") else "min"
        self.owner = owner
        self.name = name
        self.mode = mode
        self.min_delta = abs(_check_real("min_delta", min_delta))
        self._warned = False

    @property
    def worst(self):
        """The starting "best" value: +inf when minimizing, -inf when maximizing."""
        return math.inf if self.mode == "min" else -math.inf

    def improved(self, current, best):
        """Whether ``current`` beats ``best`` by more than ``min_delta``."""
        if self.mode == "min":
            return current < best - self.min_delta
        return current > best + self.min_delta

    def value(self, logs):
        """The monitored value as a float, or None (with a warning once per run) when not logged."""
        logs = logs or {}
        current = logs.get(self.name)
        if current is None:
            if not self._warned:
                self._warned = True
                available = ", ".join(logs) or "none"
                warnings.warn(f"{self.owner} is conditioned on '{self.name}', which is not in the logs "
                              f"(available: {available}); it is skipped", UserWarning, stacklevel=2)
            return None
        return float(current)

    def reset(self):
        """Allow the missing-quantity warning again (called at each training start)."""
        self._warned = False


def _learning_rate(model, owner):
    """The optimizer's learning rate as a float (a schedule cannot be adjusted by a callback)."""
    lr = model.optimizer.learning_rate
    if callable(lr):
        raise TypeError(f"{owner} needs a float learning rate, but the optimizer's learning_rate is "
                        f"the schedule {lr!r}")
    return float(lr)


def _is_rate(lr):
    """A usable learning rate: a finite real number >= 0."""
    return (isinstance(lr, numbers.Real) and not isinstance(lr, (bool, np.bool_))
            and math.isfinite(lr) and lr >= 0)


def _say(verbose, message):
    """A callback's message (when verbose), on its own line."""
    if verbose:
        _write(message + "\n")


# --------------------------------------------------------------------------------------------------
# the callbacks that act on training
# --------------------------------------------------------------------------------------------------

class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras 3 semantics).

    Each monitored epoch adds one to a wait counter; an improvement by more than ``|min_delta|`` on the
    best value so far resets it (with ``baseline``, only if the value also beats the baseline).
    Training stops (``model.stop_training = True``) when the counter reaches ``patience``, never after
    the first epoch. Epochs before ``start_from_epoch`` are not monitored. With
    ``restore_best_weights`` the weights of the best epoch (or of the first monitored one if none
    improved) are put back at the end of training, whether it stopped early or not.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        self.monitor = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.patience = _check_int("patience", patience)
        self.verbose = verbose
        self.baseline = None if baseline is None else _check_real("baseline", baseline)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = _check_int("start_from_epoch", start_from_epoch)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self.monitor.worst
        self.best_epoch = 0
        self.best_weights = None
        self.monitor.reset()

    def _snapshot(self, epoch):
        self.best_epoch = epoch
        if self.restore_best_weights:
            self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        current = self.monitor.value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self._snapshot(epoch)
        self.wait += 1
        if self.monitor.improved(current, self.best):
            self.best = current
            self._snapshot(epoch)
            if self.baseline is None or self.monitor.improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            _say(self.verbose, f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            _say(self.verbose, "Restoring model weights from the end of the best epoch: "
                               f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


def _takes_learning_rate(schedule):
    """Whether ``schedule`` accepts (epoch, lr); otherwise it is called with the epoch alone."""
    try:
        inspect.signature(schedule).bind(0, 0.0)
    except TypeError:
        return False
    except ValueError:  # no signature available (some builtins): assume the two-argument form
        pass
    return True


class LearningRateScheduler(Callback):
    """At each epoch start set the learning rate to ``schedule(epoch, lr)`` (or ``schedule(epoch)``).

    ``epoch`` is 0-based and ``lr`` the current learning rate; the result must be a finite real >= 0.
    The learning rate in effect is logged as ``logs["learning_rate"]`` at epoch end (Keras 3).
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"schedule must be callable as schedule(epoch, lr), got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._with_lr = _takes_learning_rate(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        if self._with_lr:
            lr = self.schedule(epoch, _learning_rate(self.model, "LearningRateScheduler"))
        else:
            lr = self.schedule(epoch)
        if not _is_rate(lr):
            raise ValueError(f"schedule must return a finite real number >= 0, got {lr!r} at epoch {epoch}")
        self.model.optimizer.learning_rate = float(lr)
        _say(self.verbose, f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                           f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _learning_rate(self.model, "LearningRateScheduler")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras 3 semantics).

    After ``patience`` epochs without an improvement by more than ``|min_delta|`` the learning rate
    becomes ``max(lr * factor, min_lr)`` (unless already at ``min_lr``), then ``cooldown`` epochs pass
    before waiting starts again. The learning rate is logged as ``logs["learning_rate"]``.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        self.monitor = _Monitor("ReduceLROnPlateau", monitor, mode, min_delta)
        self.factor = _check_real("factor", factor, 0.0, 1.0, hi_open=True)
        self.patience = _check_int("patience", patience)
        self.verbose = verbose
        self.cooldown = _check_int("cooldown", cooldown)
        self.min_lr = _check_real("min_lr", min_lr, 0.0)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.best = self.monitor.worst
        self.wait = 0
        self.cooldown_counter = 0
        self.monitor.reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        lr = _learning_rate(self.model, "ReduceLROnPlateau")
        if logs is not None:
            logs["learning_rate"] = lr
        current = self.monitor.value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor.improved(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                new_lr = max(lr * self.factor, self.min_lr)
                self.model.optimizer.learning_rate = new_lr
                _say(self.verbose, f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                                   f"{new_lr}.")
                self.cooldown_counter = self.cooldown
                self.wait = 0


class ModelCheckpoint(Callback):
    """Call ``model.save(path)`` at each epoch end or every ``save_freq`` batches.

    ``filepath`` may hold format fields: ``{epoch}`` (1-based), ``{batch}`` (1-based, batch saves
    only) and any logged name, e.g. ``"ckpt/{epoch:02d}-{val_loss:.2f}.npz"``; missing folders are
    created. With ``save_best_only`` a save happens only when ``monitor`` improved on the best value
    seen by this callback.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, mode="auto",
                 save_freq="epoch"):
        self.filepath = os.fspath(filepath)
        self.monitor = _Monitor("ModelCheckpoint", monitor, mode)
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        if save_freq != "epoch":
            save_freq = _check_int("save_freq (an int, or 'epoch')", save_freq, lo=1)
        self.save_freq = save_freq
        self.best = self.monitor.worst
        self._epoch = 0
        self._batches_since_save = 0

    def on_train_begin(self, logs=None):
        self.monitor.reset()
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _path(self, epoch, batch, logs):
        fields = dict(logs, epoch=epoch + 1)
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint cannot format filepath {self.filepath!r}: {e} is not "
                           f"logged (available: {', '.join(fields)})") from None

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        if self.save_best_only:
            current = self.monitor.value(logs)
            if current is None:
                return
            name = self.monitor.name
            if not self.monitor.improved(current, self.best):
                _say(self.verbose, f"\nEpoch {epoch + 1}: {name} did not improve from {self.best:.5f}")
                return
            path = self._path(epoch, batch, logs)
            _say(self.verbose, f"\nEpoch {epoch + 1}: {name} improved from {self.best:.5f} to "
                               f"{current:.5f}, saving model to {path}")
            self.best = current
        else:
            path = self._path(epoch, batch, logs)
            _say(self.verbose, f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.model.save(path)
