"""Newswire topics as "Deep Learning with Python" (chapter 4) classifies them: Reuters loaded with
num_words, decoded through the word index, multi-hot vectorized by hand, one-hot labels, then Dense
64-64-46 trained with RMSprop on a held-out validation slice. Prints what must agree with Keras:
the data's shapes, the decoded start of a newswire, a topic name, the summary's totals and
evaluate() on fixed weights."""
import argparse

import numpy as np
from keras import layers
from keras.datasets import reuters
from keras.utils import to_categorical

import keras

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=20)
args = parser.parse_args()

(train_data, train_labels), (test_data, test_labels) = reuters.load_data(num_words=1000)
print("newswires:", len(train_data), len(test_data), "topics:", len(set(train_labels.tolist())))
word_index = reuters.get_word_index()
reverse_word_index = dict([(value, key) for (key, value) in word_index.items()])
decoded_newswire = " ".join([reverse_word_index.get(i - 3, "?") for i in train_data[0]])
print("decoded:", decoded_newswire[:60])
print("first topic:", reuters.get_label_names()[train_labels[0]])


def vectorize_sequences(sequences, dimension=1000):
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.
    return results


x_train = vectorize_sequences(train_data)
x_test = vectorize_sequences(test_data)
y_train = to_categorical(train_labels, 46)
y_test = to_categorical(test_labels, 46)
print("vectorized:", x_train.shape, x_train.dtype, y_train.shape)

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(46, activation="softmax"),
])
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.build((None, 1000))
model.summary()
initial = model.get_weights()
model.set_weights([np.random.RandomState(w.size).uniform(-0.1, 0.1, w.shape).astype("float32") for w in initial])
loss, acc = model.evaluate(x_test, y_test, verbose=0)
print("fixed-weights loss: %.5f" % loss)
print("fixed-weights acc: %.5f" % acc)

x_val, partial_x_train = x_train[:200], x_train[200:]
y_val, partial_y_train = y_train[:200], y_train[200:]
history = model.fit(partial_x_train, partial_y_train, epochs=args.epochs, batch_size=512,
                    validation_data=(x_val, y_val), verbose=0)
print("history keys:", sorted(history.history))
results = model.evaluate(x_test, y_test, verbose=0)
print("test accuracy: %.4f" % results[1])
predictions = model.predict(x_test, verbose=0)
print("prediction sums to one:", bool(np.isclose(np.sum(predictions[0]), 1.0, atol=1e-5)), predictions.shape)
