"""Multiclass with activation layers (ReLU, LeakyReLU, Activation, Softmax), initializers by name
and object, sparse labels with loss and metric objects. The summary and the fixed-weights
evaluation must match Keras."""
import argparse

import keras
import numpy as np
from keras import layers

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=20)
args = parser.parse_args()

np.random.seed(3)
n, d, k = 600, 10, 4
X = np.random.randn(n, d).astype("float32")
y = np.argmax(X[:, :k] + 0.5 * X[:, k:2 * k], axis=1)

model = keras.Sequential([
    keras.Input(shape=(d,)),
    layers.Dense(32, kernel_initializer="he_normal"),
    layers.ReLU(),
    layers.Dense(32, kernel_initializer=keras.initializers.GlorotNormal(seed=1)),
    layers.LeakyReLU(negative_slope=0.2),
    layers.Dense(16),
    layers.Activation("tanh"),
    layers.Dense(k),
    layers.Softmax(),
], name="activations_mlp")
model.summary()
print("params total:", model.count_params())
print("layer names:", [layer.name for layer in model.layers])

model.set_weights([np.random.RandomState(w.size).uniform(-0.3, 0.3, w.shape).astype("float32")
                   for w in model.get_weights()])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(),
              metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc"),
                       keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")])
loss, acc, top2 = model.evaluate(X, y, batch_size=100, verbose=0)
print("fixed-weights loss: %.5f acc: %.5f top2: %.5f" % (loss, acc, top2))
logs = model.evaluate(X, y, batch_size=100, verbose=0, return_dict=True)
print("fixed-weights dict:", sorted((k, round(float(v), 5)) for k, v in logs.items()))

model.fit(X, y, epochs=args.epochs, batch_size=32, validation_split=0.2, verbose=0)
print("trained acc: %.4f" % model.evaluate(X, y, verbose=0)[1])
