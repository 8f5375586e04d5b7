"""Training callbacks with Keras 3 names and behaviour, and the Keras-style progress bar (from
:mod:`nnfast.utils.progbar`).

A callback is a :class:`Callback` subclass that overrides some of the hooks ``on_train_begin/end``,
``on_epoch_begin/end``, ``on_train_batch_begin/end``, ``on_test_*`` and ``on_predict_*``. Epoch and
batch indices are 0-based; ``logs`` is a dict (name -> float) that every callback of one
:class:`CallbackList` receives as the same object, so one callback may add entries for the next ones
(LearningRateScheduler and ReduceLROnPlateau add ``"learning_rate"`` at epoch end, as in Keras 3).
Batch logs hold the running means of the epoch so far; the progress bar shows them as given.

What a callback may use of the model: ``model.stop_training`` (the training loop reads it after
each batch and each epoch, as Keras 3's), ``model.get_weights()`` / ``model.set_weights(list)``, ``model.save(path)``,
``model.optimizer.learning_rate`` (a float; settable) and ``model.history`` (set by History).

Order in a CallbackList (as Keras 3): the user's callbacks, then History, then the progress bar, so
History records what the user's callbacks added to the epoch logs.

Callbacks that watch a logged quantity (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint) share one
rule: ``mode="auto"`` means "max" when the name without ``val_`` contains "acc" or starts with "auc",
else "min"; an improvement must beat the best value by more than ``|min_delta|``; a quantity missing
from the logs gives one UserWarning per training run and the callback then does nothing that epoch
(ModelCheckpoint with ``save_best_only`` saves, as Keras 3 does).

Keras 2's per-batch hooks ``on_batch_begin`` / ``on_batch_end`` are called by the default
``on_train_batch_begin`` / ``on_train_batch_end``, as in Keras 3, so a callback written with
either name runs.
"""

from ..utils.progbar import Progbar
from .base import Callback
from .callback_list import CallbackList
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .lambda_callback import LambdaCallback
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .model_checkpoint import ModelCheckpoint
from .progbar_logger import ProgbarLogger
from .terminate_on_nan import TerminateOnNaN

__all__ = ["Callback", "CallbackList", "History", "Progbar", "ProgbarLogger", "EarlyStopping",
           "LearningRateScheduler", "ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "LambdaCallback",
           "TerminateOnNaN"]
