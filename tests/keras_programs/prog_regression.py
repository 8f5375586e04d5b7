"""Regression with loss and metric objects, LayerNormalization, per-sample weights, and evaluate
returning a scalar (no metrics) and a list (with metrics). The fixed-weights lines must match
Keras."""
import argparse

import keras
import numpy as np
from keras import layers

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=40)
args = parser.parse_args()

keras.utils.set_random_seed(7)

n = 400
X = np.random.uniform(-2, 2, size=(n, 5)).astype("float32")
y = (np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - X[:, 2] * X[:, 3] + 0.1 * np.random.randn(n)).astype("float32")
y = y.reshape(-1, 1)
weights = np.where(X[:, 4] > 0, 2.0, 1.0).astype("float32")  # trust half the samples twice as much

model = keras.Sequential([
    keras.Input(shape=(5,)),
    layers.Dense(32, activation="relu"),
    layers.LayerNormalization(),
    layers.Dense(16, activation="relu"),
    layers.Dense(1),
])
model.summary()

model.set_weights([np.random.RandomState(w.size).normal(0, 0.3, w.shape).astype("float32")
                   for w in model.get_weights()])
model.compile(optimizer="adam", loss=keras.losses.MeanSquaredError(),
              metrics=[keras.metrics.MeanAbsoluteError(), keras.metrics.RootMeanSquaredError()])
loss, mae, rmse = model.evaluate(X, y, batch_size=50, verbose=0)
print("fixed-weights mse: %.5f mae: %.5f rmse: %.5f" % (loss, mae, rmse))
weighted = model.evaluate(X, y, sample_weight=weights, batch_size=50, verbose=0)
print("fixed-weights weighted mse: %.5f" % weighted[0])

model.fit(X[:300], y[:300], sample_weight=weights[:300], epochs=args.epochs, batch_size=32,
          validation_data=(X[300:], y[300:], weights[300:]), verbose=0)
test_mse, test_mae, test_rmse = model.evaluate(X[300:], y[300:], verbose=0)
print("test mse: %.4f" % test_mse)

plain = keras.Sequential([keras.Input(shape=(5,)), layers.Dense(1)])
plain.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="mean_squared_error")
plain.fit(X, y, epochs=5, verbose=0)
value = plain.evaluate(X, y, verbose=0)
print("scalar evaluate:", type(value).__name__, "%.4f" % value)
