"""Adam with Keras 2's decay argument (Keras 3 warns and ignores it)."""
import numpy as np
from tensorflow import keras

np.random.seed(0)
X = np.random.rand(200, 3).astype("float32")
y = (X.sum(axis=1) > 1.5).astype("float32")

model = keras.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(3,)),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01, decay=1e-4), loss="binary_crossentropy",
              metrics=["accuracy"])
model.fit(X, y, epochs=30, batch_size=20, verbose=0)
print("accuracy: %.4f" % model.evaluate(X, y, verbose=0)[1])
