"""An MLP with BatchNormalization and Dropout on flattened 8x8 images. Fixed weights and moving
statistics give the same evaluation as Keras (BatchNormalization in inference mode)."""
import argparse

import keras
import numpy as np
from keras.layers import Activation, BatchNormalization, Dense, Dropout, Flatten
from keras.models import Sequential
from keras.utils import to_categorical

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=15)
args = parser.parse_args()

np.random.seed(5)
n = 700
labels = np.random.randint(0, 5, n)
images = np.random.rand(n, 8, 8).astype("float32") * 0.5
for i, c in enumerate(labels):  # each class lights up its own row
    images[i, c + 1, :] += 0.6
Y = to_categorical(labels, num_classes=5)

model = Sequential()
model.add(Flatten(input_shape=(8, 8)))
model.add(Dense(64, use_bias=False))
model.add(BatchNormalization())
model.add(Activation("relu"))
model.add(Dropout(0.25))
model.add(Dense(32, activation="relu"))
model.add(BatchNormalization(momentum=0.9, epsilon=1e-5))
model.add(Dense(5, activation="softmax"))
model.summary()
print("params total:", model.count_params())
print("params non-trainable:", sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))

fixed = []
for w in model.get_weights():
    r = np.random.RandomState(w.size)
    fixed.append(r.uniform(0.5, 1.5, w.shape).astype("float32") if w.ndim == 1 else
                 r.normal(0, 0.2, w.shape).astype("float32"))
model.set_weights(fixed)
model.compile(optimizer="rmsprop", loss="categorical_crossentropy",
              metrics=["accuracy", keras.metrics.CategoricalAccuracy(name="cat_acc")])
loss, acc, cat_acc = model.evaluate(images, Y, batch_size=128, verbose=0)
print("fixed-weights loss: %.5f acc: %.5f" % (loss, acc))

model.fit(images[:600], Y[:600], epochs=args.epochs, batch_size=32, validation_data=(images[600:], Y[600:]), verbose=0)
loss, acc, cat_acc = model.evaluate(images[600:], Y[600:], verbose=0)
print("test accuracy: %.4f" % acc)
