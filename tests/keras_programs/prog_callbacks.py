"""Training with callbacks as users write them: a LearningRateScheduler, EarlyStopping on the
validation loss, a custom Callback, and a manual train_on_batch loop (after the habitual
tf.keras.backend.clear_session())."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

np.random.seed(11)
X = np.random.randn(800, 6).astype("float32")
y = (X[:, 0] * X[:, 1] > 0).astype("int32")
X_train, X_val, y_train, y_val = X[:600], X[600:], y[:600], y[600:]


def scheduler(epoch, lr):
    if epoch < 5:
        return lr
    return lr * 0.9


class Recorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)


tf.keras.backend.clear_session()
model = tf.keras.models.Sequential([
    tf.keras.layers.Dense(32, activation="relu", input_shape=(6,)),
    tf.keras.layers.Dense(32, activation="relu"),
    tf.keras.layers.Dense(2, activation="softmax"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
recorder = Recorder()
history = model.fit(X_train, y_train, epochs=100, batch_size=32, validation_data=(X_val, y_val), verbose=0,
                    callbacks=[tf.keras.callbacks.LearningRateScheduler(scheduler),
                               tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=4),
                               recorder])
print("history keys:", sorted(history.history))
print("epochs run:", len(history.history["loss"]), "recorded:", len(recorder.epochs))
print("stopped early:", len(history.history["loss"]) < 100)
print("final learning rate: %.6f" % float(model.optimizer.learning_rate))
val_loss, val_acc = model.evaluate(X_val, y_val, verbose=0)
print("val accuracy: %.4f" % val_acc)

# a manual loop over batches
for _ in range(3):
    perm = np.random.permutation(len(X_train))
    for start in range(0, len(X_train), 64):
        idx = perm[start:start + 64]
        loss, acc = model.train_on_batch(X_train[idx], y_train[idx])
print("train_on_batch last loss: %.4f" % loss)
