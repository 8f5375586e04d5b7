"""A text classifier as the Keras tutorials write it: reviews as word-id lists of varying lengths,
padded with keras.utils.pad_sequences, an Embedding averaged by GlobalAveragePooling1D, then Dense
layers; a second model pools with GlobalMaxPooling1D and unit-normalizes its features. Prints what
must agree with Keras: the padded data, the summary's totals and evaluate() on fixed weights."""
import argparse

import keras
import numpy as np
from keras import layers

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=40)
args = parser.parse_args()

np.random.seed(5)
vocabulary, maxlen = 200, 20
reviews, labels = [], []
for _ in range(1200):
    words = np.random.randint(1, vocabulary, size=np.random.randint(4, 30))
    praise, blame = np.isin(words, np.arange(1, 21)).sum(), np.isin(words, np.arange(21, 41)).sum()
    if praise == blame:
        continue
    reviews.append(words.tolist())
    labels.append(int(praise > blame))
labels = np.array(labels)
x = keras.utils.pad_sequences(reviews, maxlen=maxlen)
print("padded:", x.shape, x.dtype, x[0].tolist())
print("post-padded:", keras.utils.pad_sequences(reviews[:2], maxlen=8, padding="post", truncating="post").tolist())

model = keras.Sequential([
    keras.Input(shape=(maxlen,)),
    layers.Embedding(vocabulary, 16),
    layers.GlobalAveragePooling1D(),
    layers.Dense(16, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.summary()
model.set_weights([np.random.RandomState(w.size).uniform(-0.2, 0.2, w.shape).astype("float32")
                   for w in model.get_weights()])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
loss, acc = model.evaluate(x, labels, verbose=0)
print("fixed-weights loss: %.5f" % loss)
print("fixed-weights acc: %.5f" % acc)
model.fit(x, labels, epochs=args.epochs, batch_size=32, validation_split=0.2, verbose=0)
print("average-pooled acc: %.4f" % model.evaluate(x, labels, verbose=0)[1])

maxed = keras.Sequential([
    keras.Input(shape=(maxlen,)),
    layers.Embedding(vocabulary, 16),
    layers.GlobalMaxPool1D(),
    layers.UnitNormalization(),
    layers.Dense(1, activation="sigmoid"),
])
maxed.summary()
maxed.set_weights([np.random.RandomState(w.size + 3).uniform(-0.2, 0.2, w.shape).astype("float32")
                   for w in maxed.get_weights()])
maxed.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
print("fixed-weights max-pooled loss: %.5f" % maxed.evaluate(x, labels, verbose=0)[0])
maxed.fit(x, labels, epochs=args.epochs, batch_size=32, verbose=0)
print("max-pooled acc: %.4f" % maxed.evaluate(x, labels, verbose=0)[1])
