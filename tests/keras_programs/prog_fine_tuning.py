"""Fine-tuning as the Keras guides write it, on an MLP: train the whole model, freeze its base layers
(`layer.trainable = False` on the built model) and train the head on new samples, then thaw the base
and compile again with a low learning rate; a Lambda scales the raw inputs. Prints what must agree
with Keras: the summary's parameter counts (trained, frozen, and the optimizer's) after each stage,
and evaluate() on fixed weights."""
import argparse

import keras
import numpy as np
from keras import layers

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=15)
args = parser.parse_args()

rng = np.random.RandomState(7)
teacher = rng.normal(size=(20, 4))


def samples(n):
    x = rng.uniform(0, 255, (n, 20)).astype("float32")
    return x, np.argmax((x / 255.0 - 0.5) @ teacher, axis=1)


def totals(model, stage):
    lines = []
    model.summary(print_fn=lambda text, *a, **k: lines.extend(text.splitlines()))
    for line in lines:
        if " params: " in line:
            print(stage, line.strip())


x, y = samples(2000)
x_new, y_new = samples(1000)
model = keras.Sequential([
    keras.Input(shape=(20,)),
    layers.Lambda(lambda t: t / 255.0 - 0.5, name="scale"),
    layers.Dense(32, activation="relu", name="base_1"),
    layers.Dense(16, activation="relu", name="base_2"),
    layers.Dense(4, activation="softmax", name="head"),
])
model.set_weights([np.random.RandomState(w.size).uniform(-0.3, 0.3, w.shape).astype("float32")
                   for w in model.get_weights()])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
print("fixed-weights loss: %.5f" % model.evaluate(x, y, verbose=0)[0])
model.fit(x, y, epochs=args.epochs, batch_size=64, verbose=0)
totals(model, "trained:")

for name in ("base_1", "base_2"):
    model.get_layer(name).trainable = False
frozen = [w.copy() for w in model.get_layer("base_1").get_weights()]
model.fit(x_new, y_new, epochs=args.epochs, batch_size=64, verbose=0)
totals(model, "head only:")
print("base unchanged:", all(np.array_equal(a, b) for a, b in zip(frozen, model.get_layer("base_1").get_weights())))

for name in ("base_1", "base_2"):
    model.get_layer(name).trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
totals(model, "recompiled:")
model.fit(x_new, y_new, epochs=args.epochs, batch_size=64, verbose=0)
totals(model, "fine-tuned:")
print("base moved:", not all(np.array_equal(a, b) for a, b in zip(frozen, model.get_layer("base_1").get_weights())))
print("fine-tuned accuracy: %.3f" % model.evaluate(x, y, verbose=0)[1])
