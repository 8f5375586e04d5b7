"""A wide-and-deep style functional model as users write it: images rescaled and reshaped in the
model, elu / swish / gelu activations, a PReLU, GaussianNoise and GaussianDropout for
regularization, and branches merged with layers.add, layers.multiply and layers.concatenate. Prints
what must agree with Keras: the summary's totals and evaluate() on fixed weights."""
import argparse

import keras
import numpy as np
from keras import layers

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=25)
args = parser.parse_args()

np.random.seed(7)
n = 768
images = np.random.randint(0, 256, size=(n, 6, 6)).astype("float32")
label = (images[:, :3, :3].mean(axis=(1, 2)) > images[:, 3:, 3:].mean(axis=(1, 2))).astype("int64")

pixels = keras.Input(shape=(6, 6), name="pixels")
x = layers.Rescaling(1.0 / 255, offset=-0.5)(pixels)
x = layers.Reshape((36,))(x)
x = layers.GaussianNoise(0.05)(x)
deep = layers.Dense(32, activation="elu")(x)
deep = layers.Dense(32, activation="swish")(deep)
deep = layers.GaussianDropout(0.1)(deep)
wide = layers.Dense(32)(x)
wide = layers.PReLU()(wide)
gate = layers.Dense(32, activation="sigmoid")(x)
joined = layers.concatenate([layers.add([deep, wide]), layers.multiply([wide, gate])])
hidden = layers.Dense(16, activation="gelu")(joined)
out = layers.Dense(2, activation="softmax")(hidden)
model = keras.Model(pixels, out)
model.summary()
print("params total:", model.count_params())
print("layer types:", sorted({type(layer).__name__ for layer in model.layers}))

model.set_weights([np.random.RandomState(w.size).uniform(-0.3, 0.3, w.shape).astype("float32")
                   for w in model.get_weights()])
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
loss, acc = model.evaluate(images, label, verbose=0)
print("fixed-weights loss: %.5f" % loss)
print("fixed-weights acc: %.5f" % acc)
model.fit(images, label, epochs=args.epochs, batch_size=32, verbose=0, validation_split=0.25)
print("trained acc: %.4f" % model.evaluate(images, label, verbose=0)[1])
