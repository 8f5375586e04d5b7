"""Functional API with two inputs (customer features and product features) joined by
Concatenate, a frozen Dense layer, and an activation passed as a function. Prints what must agree
with Keras: the summary's totals and evaluate() on fixed weights."""
import argparse

import keras
import numpy as np
from keras.layers import Concatenate, Dense, Input
from keras.models import Model

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=30)
args = parser.parse_args()

np.random.seed(42)

n = 512
customers = np.random.rand(n, 6).astype("float32")
products = np.random.rand(n, 4).astype("float32")
bought = ((customers[:, :2].sum(axis=1) + products[:, 0] - products[:, 3]) > 1.0).astype("float32")

customer_in = Input(shape=(6,), name="customer")
product_in = Input(shape=(4,), name="product")
c = Dense(8, activation=keras.activations.relu, name="customer_dense")(customer_in)
p = Dense(8, activation=keras.activations.relu, name="product_dense")(product_in)
merged = Concatenate(name="merge")([c, p])
hidden = Dense(8, activation="tanh", trainable=False, name="frozen")(merged)
out = Dense(1, activation="sigmoid", name="buy")(hidden)
model = Model(inputs=[customer_in, product_in], outputs=out)
model.summary()

print("params total:", model.count_params())
print("params trainable:", sum(int(np.prod(w.shape)) for w in model.trainable_weights))
print("params non-trainable:", sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))
print("weight shapes:", sorted(tuple(w.shape) for w in model.get_weights()))

# fixed, reproducible weights (each drawn from its shape, so the order of the list does not matter)
model.set_weights([np.random.RandomState(w.size).uniform(-0.5, 0.5, w.shape).astype("float32")
                   for w in model.get_weights()])
frozen_before = model.get_layer("frozen").get_weights()[0].copy()

model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
              loss=keras.losses.BinaryCrossentropy(), metrics=[keras.metrics.BinaryAccuracy(name="acc"),
                                                               keras.metrics.AUC(name="auc")])
loss, acc, auc = model.evaluate([customers, products], bought, batch_size=64, verbose=0)
print("fixed-weights loss: %.5f" % loss)
print("fixed-weights acc: %.5f" % acc)
print("fixed-weights auc: %.5f" % auc)
print("fixed-weights predict[:4]:", np.round(model.predict([customers[:4], products[:4]], verbose=0).ravel(), 5))

history = model.fit([customers, products], bought, epochs=args.epochs, batch_size=32, verbose=0, shuffle=True)
print("trained loss: %.4f" % history.history["loss"][-1])
loss, acc, auc = model.evaluate({"customer": customers, "product": products}, bought, verbose=0)
print("trained acc: %.4f" % acc)
print("frozen layer unchanged:", bool(np.array_equal(frozen_before, model.get_layer("frozen").get_weights()[0])))
