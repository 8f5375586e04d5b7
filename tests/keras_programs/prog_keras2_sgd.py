"""A Keras 2 era program: SGD(lr=..., decay=...) (Keras 3 renamed lr to learning_rate and dropped
decay), iris-like synthetic data, one-hot labels."""
import numpy as np
from keras.layers import Dense
from keras.models import Sequential
from keras.optimizers import SGD
from keras.utils import to_categorical

np.random.seed(42)
centers = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.5, 2.0]])
labels = np.random.randint(0, 3, 300)
X = (centers[labels] + 0.3 * np.random.randn(300, 4)).astype("float32")
Y = to_categorical(labels)

model = Sequential()
model.add(Dense(10, input_dim=4, activation="relu"))
model.add(Dense(3, activation="softmax"))
sgd = SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss="categorical_crossentropy", optimizer=sgd, metrics=["accuracy"])
model.fit(X, Y, epochs=50, batch_size=16, verbose=0)
print("accuracy: %.4f" % model.evaluate(X, Y, verbose=0)[1])
