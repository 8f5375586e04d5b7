"""TensorFlow's imbalanced-data tutorial as users adapt it to a small table, written against
tf.keras: tf.__version__ printed, the output bias from np.log([pos / neg]) through
initializers.Constant, class weights from scikit-learn (float keys), a list of metric objects with
two unnamed Precision()s, a learning rate given as a callable of no arguments, build() after
compile, summary(show_trainable=True), validation on some epochs only, EarlyStopping on
val_precision (mode "auto": maximized) and ModelCheckpoint on val_auc with verbose=1, then
metric.result().numpy() and a lean .h5 save. Under the runner `import tensorflow` is nnfast's
stand-in; on Keras alone (no TensorFlow installed) a namespace stands in for it."""
import numpy as np
from sklearn.utils.class_weight import compute_class_weight

try:
    import tensorflow as tf
    from tensorflow import keras
except ImportError:  # Keras 3 alone (the comparison run): what tf.keras and tf.__version__ would be
    import types

    import keras
    tf = types.SimpleNamespace(keras=keras, __version__="2.16.1")

print("versions:", tf.__version__.split(".")[0], keras.__version__.split(".")[0])
rng = np.random.default_rng(3)
n = 1200
x = rng.normal(size=(n, 6)).astype("float32")
y = ((x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.7, n)) > 1.3).astype("float32")  # about 15% positive
neg, pos = np.bincount(y.astype(int))
initial_bias = np.log([pos / neg])
class_weight = dict(zip(np.unique(y), compute_class_weight("balanced", classes=np.unique(y), y=y)))

METRICS = [keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.Precision(),
           keras.metrics.Precision(thresholds=0.3), keras.metrics.Recall(name="recall"), keras.metrics.AUC(name="auc")]


def make_model():
    model = keras.Sequential([
        keras.Input(shape=(6,)),
        keras.layers.Dense(16, activation="relu", name="hidden"),
        keras.layers.Dense(1, activation="sigmoid", bias_initializer=keras.initializers.Constant(initial_bias)),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lambda: 1e-2),
                  loss=keras.losses.BinaryCrossentropy(), metrics=METRICS)
    return model


model = make_model()
model.build((None, 6))  # after compile, as tutorials do: nothing changes
model.get_layer("hidden").trainable = False
model.summary(show_trainable=True)
model.get_layer("hidden").trainable = True
print("fixed initial bias:", np.round(model.layers[-1].get_weights()[1], 5))

# fixed weights from here: what follows must not depend on the framework
model.set_weights([np.linspace(-0.4, 0.4, w.size).reshape(w.shape).astype("float32") for w in model.get_weights()])
history = model.fit(x, y, batch_size=64, epochs=6, validation_data=(x[:300], y[:300]), validation_freq=[2, 4, 6],
                    class_weight=class_weight, shuffle=False, verbose=0,
                    callbacks=[keras.callbacks.EarlyStopping(monitor="val_precision", patience=1,
                                                             restore_best_weights=True),
                               keras.callbacks.ModelCheckpoint("best.keras", monitor="val_auc", save_best_only=True,
                                                               verbose=1)])
print("history keys:", sorted(history.history))
print("fixed losses:", np.round(history.history["loss"], 5))
print("fixed val_precision:", np.round(history.history["val_precision"], 5))
auc = keras.metrics.AUC()
auc.update_state(y, model.predict(x, verbose=0)[:, 0])
print("fixed auc:", np.round(auc.result().numpy(), 5))
print("fixed evaluate:", np.round(model.evaluate(x, y, verbose=0), 5))
model.save("lean.h5", include_optimizer=False)
reloaded = keras.models.load_model("lean.h5", compile=False)
print("fixed reloaded predictions equal:", np.allclose(reloaded.predict(x[:8], verbose=0), model.predict(x[:8], verbose=0)))
