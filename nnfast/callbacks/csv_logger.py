"""CSVLogger: each epoch's logs as a row of a CSV file, as Keras 3 writes it."""

import collections.abc
import csv
import os

from ..utils import checks
from .base import Callback

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Write ``epoch`` (0-based) and the epoch logs to ``filename``, one row per epoch.

    As Keras 3: the columns are fixed at the first epoch end - the logged names sorted, then, when
    none starts with ``val_``, the ``val_`` form of each (so a later validation epoch has columns) -
    and a name missing from an epoch's logs is written ``NA``. ``append=True`` adds to an existing
    file, with the header only when the file is empty or new. The file is flushed after every row
    and closed at the end of training.
    """

    def __init__(self, filename, separator=",", append=False):
        self.filename = os.fspath(filename)
        self.sep = checks.string("separator", separator)
        if len(self.sep) != 1:
            raise ValueError(f"separator must be one character, got {separator!r}")
        self.append = bool(append)
        self.keys = None
        self.writer = None
        self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, encoding="utf-8") as f:
                    self.append_header = not f.readline()
            mode = "a"
        else:
            mode = "w"
        self._close()
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _cell(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()
        self.writer = None

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()


def _cell(value):
    """A log value as Keras writes it: a list-like as "[a, b]", anything else as itself."""
    if isinstance(value, str) or getattr(value, "ndim", None) == 0:
        return value
    if isinstance(value, collections.abc.Iterable):
        return f'"[{", ".join(map(str, value))}]"'
    return value
