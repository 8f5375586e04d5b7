"""Logging and checkpointing as users write them: CSVLogger, a LambdaCallback printing progress, a
Keras 2 style callback counting batches with on_batch_end, and ModelCheckpoint keeping the best
weights only (save_weights_only), which are loaded back afterwards."""
import argparse
import csv

import numpy as np
import keras
from keras import backend as K
from keras import layers

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=8)
args = parser.parse_args()

rng = np.random.default_rng(3)
X = rng.standard_normal((640, 10)).astype("float32")
y = (X[:, :3].sum(axis=1) > 0).astype("float32")


class BatchCounter(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batches = 0

    def on_batch_end(self, batch, logs=None):
        self.batches += 1


K.clear_session()
model = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(16, activation="relu"),
                          layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
counter = BatchCounter()
epochs_seen = []
callbacks = [
    keras.callbacks.CSVLogger("training.csv"),
    keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch)),
    keras.callbacks.ModelCheckpoint("best.weights.h5", monitor="val_loss", save_best_only=True,
                                    save_weights_only=True),
    counter,
]
model.fit(X[:512], y[:512], epochs=args.epochs, batch_size=64, validation_data=(X[512:], y[512:]),
          callbacks=callbacks, verbose=0)

with open("training.csv", newline="") as f:
    rows = list(csv.reader(f))
print("csv header:", ",".join(rows[0]))
print("layer names:", [layer.name for layer in model.layers], "floatx:", K.floatx())
print("csv rows:", len(rows) - 1)
print("epochs seen by the lambda:", epochs_seen)
print("batches counted:", counter.batches)
model.load_weights("best.weights.h5")
loss, acc = model.evaluate(X[512:], y[512:], verbose=0)
best = min(float(r[rows[0].index("val_loss")]) for r in rows[1:])
print("reloaded best val_loss matches the log:", abs(loss - best) < 1e-4 * max(1.0, best))
print("val accuracy: %.4f" % acc)
