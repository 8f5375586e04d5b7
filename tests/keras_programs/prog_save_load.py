"""Reproducible training with keras.utils.set_random_seed, then save/load, to_json/model_from_json
and get_weights/set_weights round trips."""
import keras
import numpy as np
from keras.layers import Dense, Dropout
from keras.models import Sequential, load_model, model_from_json


def build():
    keras.utils.set_random_seed(1234)
    model = Sequential([Dense(16, activation="relu", input_shape=(8,)), Dropout(0.1),
                        Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

rng = np.random.RandomState(0)
X = rng.randn(300, 8).astype("float32")
y = np.argmax(X[:, :3], axis=1)

first = build()
h1 = first.fit(X, y, epochs=5, batch_size=32, verbose=0)
second = build()
h2 = second.fit(X, y, epochs=5, batch_size=32, verbose=0)
print("same seed, same history:", h1.history["loss"] == h2.history["loss"])

model = first
model.save("model.npz")
restored = load_model("model.npz")
p1, p2 = model.predict(X, verbose=0), restored.predict(X, verbose=0)
print("load_model predictions equal:", bool(np.array_equal(p1, p2)))
print("load_model evaluate equal:", model.evaluate(X, y, verbose=0) == restored.evaluate(X, y, verbose=0))

# keep training the restored model: the optimizer state came back too
model.fit(X, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
restored.fit(X, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
print("continued training equal:", bool(np.allclose(model.predict(X, verbose=0), restored.predict(X, verbose=0),
                                                    atol=1e-6)))

json_string = model.to_json()
with open("model.json", "w") as f:
    f.write(json_string)
with open("model.json") as f:
    clone = model_from_json(f.read())
clone.set_weights(model.get_weights())
print("json architecture layers:", [type(layer).__name__ for layer in clone.layers])
same = np.array_equal(clone.predict(X, verbose=0), model.predict(X, verbose=0))
print("model_from_json predictions equal:", bool(same))
print("accuracy: %.4f" % model.evaluate(X, y, verbose=0)[1])
