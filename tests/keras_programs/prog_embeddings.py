"""Embeddings as users write them: a matrix-factorization recommender (user and item embeddings
joined by a Dot layer, the classic Keras ratings model) and a tabular model whose categorical
column goes through an Embedding and a Flatten beside the numeric columns. Prints what must agree
with Keras: the summary's totals and evaluate() on fixed weights."""
import argparse

import keras
import numpy as np
from keras import layers

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=30)
args = parser.parse_args()

np.random.seed(11)
n_users, n_items, factors = 40, 60, 5
user_taste = np.random.normal(size=(n_users, factors))
item_trait = np.random.normal(size=(n_items, factors))
users = np.random.randint(0, n_users, size=2000)
items = np.random.randint(0, n_items, size=2000)
ratings = (user_taste[users] * item_trait[items]).sum(axis=1) / factors ** 0.5
# and a categorical column (a city code) beside two numeric ones (all data made first: a model
# built with no seed draws one from NumPy's global state)
cities = np.random.randint(0, 12, size=(1500, 1))
numeric = np.random.normal(size=(1500, 2)).astype("float32")
city_effect = np.linspace(-1.5, 1.5, 12)
label = (city_effect[cities[:, 0]] + numeric[:, 0] > 0).astype("float32")

user_in = keras.Input(shape=(1,), name="user")
item_in = keras.Input(shape=(1,), name="item")
user_vec = layers.Flatten()(layers.Embedding(n_users, 8, embeddings_regularizer=keras.regularizers.l2(1e-5),
                                             name="user_embedding")(user_in))
item_vec = layers.Flatten()(layers.Embedding(n_items, 8, name="item_embedding")(item_in))
score = layers.Dot(axes=1)([user_vec, item_vec])
recommender = keras.Model([user_in, item_in], score)
recommender.summary()
print("recommender params:", recommender.count_params())

weights = [np.random.RandomState(w.size).uniform(-0.3, 0.3, w.shape).astype("float32")
           for w in recommender.get_weights()]
recommender.set_weights(weights)
recommender.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
print("fixed-weights recommender mse: %.5f" % recommender.evaluate([users, items], ratings, verbose=0))
recommender.fit([users, items], ratings, epochs=args.epochs, batch_size=64, verbose=0)
baseline = float(np.mean((ratings - ratings.mean()) ** 2))
trained = recommender.evaluate([users, items], ratings, verbose=0)
print("recommender mse / variance: %.3f" % (trained / baseline))

city_in = keras.Input(shape=(1,), name="city")
numeric_in = keras.Input(shape=(2,), name="numeric")
city_vec = layers.Flatten()(layers.Embedding(input_dim=12, output_dim=3)(city_in))
hidden = layers.Dense(16, activation="relu")(layers.Concatenate()([city_vec, numeric_in]))
# the categorical column embedded beside the numeric ones
tabular = keras.Model(inputs=[city_in, numeric_in], outputs=layers.Dense(1, activation="sigmoid")(hidden))
tabular.summary()
tabular.set_weights([np.random.RandomState(w.size + 1).uniform(-0.3, 0.3, w.shape).astype("float32")
                     for w in tabular.get_weights()])
tabular.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
loss, acc = tabular.evaluate([cities, numeric], label, verbose=0)
print("fixed-weights tabular loss: %.5f" % loss)
print("fixed-weights tabular acc: %.5f" % acc)
tabular.fit([cities, numeric], label, epochs=args.epochs, batch_size=32, verbose=0, validation_split=0.2)
print("tabular acc: %.4f" % tabular.evaluate([cities, numeric], label, verbose=0)[1])
