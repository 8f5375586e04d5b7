"""A churn table as pandas gives it: pd.get_dummies' bool columns beside float ones passed to fit
as the DataFrame itself, a Sequential summarized before it has an input shape, the loss given as
Keras's function form, then test_on_batch / predict_on_batch on fixed weights."""
import keras
import numpy as np
import pandas as pd
from keras import layers

keras.utils.set_random_seed(7)
rng = np.random.default_rng(7)
n = 800
df = pd.DataFrame({
    "tenure": rng.uniform(0, 72, n),
    "monthly": rng.uniform(20, 120, n),
    "contract": rng.choice(["monthly", "yearly", "two_year"], n),
    "paperless": rng.random(n) > 0.4,
})
score = 0.04 * df["monthly"] - 0.06 * df["tenure"] + 1.5 * (df["contract"] == "monthly") + rng.normal(0, 0.5, n)
y = (score > np.median(score)).astype("float32").to_numpy()
X = pd.get_dummies(df, columns=["contract"])  # pandas 2: bool columns
X[["tenure", "monthly"]] = (X[["tenure", "monthly"]] - X[["tenure", "monthly"]].mean()) / X[["tenure", "monthly"]].std()
print("dtypes:", sorted({str(t) for t in X.dtypes}))

model = keras.Sequential([layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")])
model.summary()
model.compile(optimizer="adam", loss=keras.losses.binary_crossentropy, metrics=["accuracy"])
history = model.fit(X, y, epochs=30, batch_size=32, validation_split=0.2, verbose=0)
print("history keys:", sorted(history.history))
print("final accuracy above 0.8:", history.history["accuracy"][-1] > 0.8)

# fixed weights: what follows must not depend on the framework
weights = [np.linspace(-0.5, 0.5, w.size).reshape(w.shape).astype("float32") for w in model.get_weights()]
model.set_weights(weights)
features = X.to_numpy(dtype="float32")
print("fixed test_on_batch:", np.round(model.test_on_batch(features[:64], y[:64]), 5))
logs = model.test_on_batch(features[64:128], y[64:128], return_dict=True)
print("fixed test_on_batch dict:", sorted(logs), round(float(logs["loss"]), 5))
model.reset_metrics()
print("fixed predict_on_batch:", np.round(model.predict_on_batch(features[:4])[:, 0], 5))
print("fixed evaluate:", np.round(model.evaluate(X, y, verbose=0), 5))
