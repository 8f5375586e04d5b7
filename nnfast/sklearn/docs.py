CLASSIFIER = "Multi-layer Perceptron classifier."
REGRESSOR = "Multi-layer Perceptron regressor."
