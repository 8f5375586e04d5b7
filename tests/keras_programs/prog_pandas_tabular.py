"""A pandas DataFrame of house data: one-hot columns, a Normalization layer adapted to the
training features, a functional model, ReduceLROnPlateau and ModelCheckpoint, reload the best."""
import keras
import numpy as np
import pandas as pd
from keras import layers
from keras.callbacks import ModelCheckpoint, ReduceLROnPlateau

np.random.seed(42)
keras.utils.set_random_seed(42)

n = 600
df = pd.DataFrame({
    "area": np.random.uniform(40, 250, n),
    "rooms": np.random.randint(1, 7, n),
    "age": np.random.uniform(0, 80, n),
    "city": np.random.choice(["north", "south", "east"], n),
})
df["price"] = (2.0 * df["area"] + 15 * df["rooms"] - 0.8 * df["age"]
               + df["city"].map({"north": 40.0, "south": 0.0, "east": 20.0})
               + np.random.normal(0, 10, n))
print(df.head())
print(df.describe().loc[["mean", "std"]].round(2))

df = pd.get_dummies(df, columns=["city"], dtype=float)
features = df.drop(columns=["price"])
target = df["price"]
print("feature columns:", list(features.columns))

train = df.sample(frac=0.8, random_state=0)
test = df.drop(train.index)
X_train = train.drop(columns=["price"]).values.astype("float32")
X_test = test.drop(columns=["price"]).values.astype("float32")
y_train = (train["price"].values / 100).astype("float32")
y_test = (test["price"].values / 100).astype("float32")

normalizer = layers.Normalization()
normalizer.adapt(X_train)

inputs = keras.Input(shape=(X_train.shape[1],))
x = normalizer(inputs)
x = layers.Dense(64, activation="relu", kernel_initializer="he_normal")(x)
x = layers.Dense(32, activation="relu", kernel_initializer="he_normal")(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs=inputs, outputs=outputs)
print("adapted mean:", np.round(np.ravel(normalizer.get_weights()[0])[:3], 2))
print("column means:", np.round(X_train.mean(axis=0)[:3], 2))
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])

callbacks = [
    ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3, min_lr=1e-4, verbose=1),
    ModelCheckpoint("best_model.npz", monitor="val_loss", save_best_only=True, verbose=0),
]
history = model.fit(X_train, y_train, validation_split=0.2, epochs=60, batch_size=32, callbacks=callbacks,
                    verbose=0)
print("best val_loss: %.4f" % min(history.history["val_loss"]))

best = keras.models.load_model("best_model.npz")
loss, mae = best.evaluate(X_test, y_test, verbose=0)
print("test mae (best model): %.4f" % mae)
pred = best.predict(X_test[:3], verbose=0).ravel() * 100
print("predicted prices:", np.round(pred, 1))
print("true prices:     ", np.round(y_test[:3] * 100, 1))
