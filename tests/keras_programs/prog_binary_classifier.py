"""Imbalanced binary classification of tabular data: class weights, AUC/precision/recall, early
stopping on the validation AUC (Keras-2-era initializer strings)."""
import keras
import numpy as np
from keras.callbacks import EarlyStopping
from keras.layers import BatchNormalization, Dense, Dropout
from keras.models import Sequential

np.random.seed(42)

# 1000 customers, 12 features, about 20% positives
n, d = 1000, 12
X = np.random.randn(n, d).astype("float32")
w = np.random.randn(d)
score = X @ w + 0.5 * np.random.randn(n)
y = (score > np.percentile(score, 80)).astype("float32")
print("positives: %.1f%%" % (100 * y.mean()))

split = int(0.8 * n)
X_train, X_val = X[:split], X[split:]
y_train, y_val = y[:split], y[split:]

model = Sequential()
model.add(Dense(32, input_dim=d, kernel_initializer="uniform", activation="relu"))
model.add(BatchNormalization())
model.add(Dropout(0.3))
model.add(Dense(16, kernel_initializer="normal", activation="relu"))
model.add(Dense(1, kernel_initializer="uniform", activation="sigmoid"))

model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005),
              loss=keras.losses.BinaryCrossentropy(),
              metrics=["accuracy", keras.metrics.AUC(name="auc"), keras.metrics.Precision(name="precision"),
                       keras.metrics.Recall(name="recall")])

neg, pos = np.bincount(y_train.astype(int))
class_weight = {0: (1 / neg) * (len(y_train) / 2.0), 1: (1 / pos) * (len(y_train) / 2.0)}
print("class weights: {0: %.3f, 1: %.3f}" % (class_weight[0], class_weight[1]))

early_stop = EarlyStopping(monitor="val_auc", mode="max", patience=5, restore_best_weights=True, verbose=1)
history = model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=40, batch_size=64,
                    class_weight=class_weight, callbacks=[early_stop], verbose=0)
print("epochs run:", len(history.history["loss"]))

results = model.evaluate(X_val, y_val, verbose=0, return_dict=True)
for name, value in results.items():
    print("%s: %.4f" % (name, value))

probs = model.predict(X_val, verbose=0).ravel()
print("predicted positives:", int((probs > 0.5).sum()), "of", len(probs))
