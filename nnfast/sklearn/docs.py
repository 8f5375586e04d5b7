"""The estimators' docstrings, in scikit-learn's numpydoc layout and words (the parameters and
attributes are scikit-learn's: BSD-3-Clause, the scikit-learn developers), with what nnfast adds."""

LOSS = """\
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss function to use when training the weights. "squared_error"
        and "poisson" are half the squared error and half the Poisson
        deviance; "poisson" uses a log-link (exponential output activation)
        and requires ``y >= 0``.

"""

PARAMETERS = """\
    hidden_layer_sizes : array-like of shape(n_layers - 2,), default=(100,)
        The ith element represents the number of neurons in the ith
        hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation function for the hidden layer: 'identity' f(x) = x,
        'logistic' f(x) = 1 / (1 + exp(-x)), 'tanh' f(x) = tanh(x),
        'relu' f(x) = max(0, x).

    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The solver for weight optimization: 'lbfgs' (scipy's L-BFGS-B,
        quasi-Newton, full batch), 'sgd' (stochastic gradient descent) or
        'adam' (Kingma and Ba's stochastic optimizer).

    alpha : float, default=0.0001
        Strength of the L2 regularization term. The L2 regularization term
        is divided by the sample size when added to the loss.

    batch_size : int, default='auto'
        Size of minibatches for stochastic optimizers. If the solver is
        'lbfgs', minibatches are not used. When set to "auto",
        `batch_size=min(200, n_samples)`.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning rate schedule for weight updates (solver='sgd' only):
        'constant' is `learning_rate_init`; 'invscaling' is
        ``learning_rate_init / pow(t, power_t)`` at time step t; 'adaptive'
        divides the learning rate by 5 each time two consecutive epochs fail
        to decrease the training loss by tol (or to increase the validation
        score by tol with early_stopping).

    learning_rate_init : float, default=0.001
        The initial learning rate ('sgd' and 'adam').

    power_t : float, default=0.5
        The exponent for inverse scaling learning rate ('invscaling').

    max_iter : int, default=200
        Maximum number of iterations. For 'sgd' and 'adam' this is the
        number of epochs, not of gradient steps.

    shuffle : bool, default=True
        Whether to shuffle samples in each iteration ('sgd' and 'adam').

    random_state : int, RandomState instance, default=None
        Determines the weights and biases initialization, the train-test
        split of early stopping and the batch sampling, with the same draws
        in the same order as scikit-learn's estimator.

    tol : float, default=1e-4
        Tolerance for the optimization. When the loss or score is not
        improving by at least ``tol`` for ``n_iter_no_change`` consecutive
        iterations, unless ``learning_rate`` is 'adaptive', convergence is
        considered to be reached and training stops.

    verbose : bool, default=False
        Whether to print progress messages to stdout.

    warm_start : bool, default=False
        When set to True, reuse the solution of the previous call to fit as
        initialization, otherwise, just erase the previous solution.

    momentum : float, default=0.9
        Momentum for gradient descent update, in [0, 1] ('sgd' only).

    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum ('sgd' and momentum > 0).

    early_stopping : bool, default=False
        Whether to set aside ``validation_fraction`` of the training data
        and stop when the validation score does not improve by at least
        ``tol`` for ``n_iter_no_change`` consecutive epochs (stratified
        split, except for multilabel targets); the best weights are kept.
        Only effective when solver='sgd' or 'adam'.

    validation_fraction : float, default=0.1
        The proportion of training data to set aside as validation set for
        early stopping.

    beta_1 : float, default=0.9
        Exponential decay rate for estimates of first moment vector in adam,
        in [0, 1).

    beta_2 : float, default=0.999
        Exponential decay rate for estimates of second moment vector in
        adam, in [0, 1).

    epsilon : float, default=1e-8
        Value for numerical stability in adam.

    n_iter_no_change : int, default=10
        Maximum number of epochs to not meet ``tol`` improvement
        ('sgd' and 'adam').

    max_fun : int, default=15000
        Maximum number of loss function calls ('lbfgs' only).

"""

ATTRIBUTES = """\
    loss_ : float
        The current loss computed with the loss function.

    best_loss_ : float or None
        The minimum loss reached by the solver throughout fitting (None with
        early_stopping=True: see `best_validation_score_`).

    loss_curve_ : list of shape (`n_iter_`,)
        The loss at each iteration.

    validation_scores_ : list of shape (`n_iter_`,) or None
        The score at each iteration on the held-out validation set
        (early_stopping=True), else None.

    best_validation_score_ : float or None
        The best validation score (early_stopping=True), else None.

    t_ : int
        The number of training samples seen by the solver during fitting.

    coefs_ : list of shape (n_layers - 1,)
        The ith element is the weight matrix of layer i, (fan_in, fan_out).

    intercepts_ : list of shape (n_layers - 1,)
        The ith element is the bias vector of layer i + 1.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has
        feature names that are all strings.

    n_iter_ : int
        The number of iterations the solver has run.

    n_layers_ : int
        Number of layers.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation function.
"""

NOTES = """
    Notes
    -----
    A drop-in replacement for scikit-learn's estimator of the same name:
    the same parameters, defaults, methods, fitted attributes, warnings and
    errors, and the same initial weights and shuffles for a random_state, so
    a run follows scikit-learn's step for step (to rounding). The dense
    layers, the backward pass and the optimizer updates run on nnfast's
    native kernels. Float32 input trains in float32, anything else in
    float64. Sparse input is accepted and densified batch by batch. See
    nnfast's docs/sklearn.md for the differences.
"""

CLASSIFIER = ("""Multi-layer Perceptron classifier on nnfast's kernels.

    This model optimizes the log-loss function using LBFGS or stochastic
    gradient descent.

    Parameters
    ----------
""" + PARAMETERS + """    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.

""" + ATTRIBUTES + NOTES + """
    Examples
    --------
    >>> from nnfast.sklearn import MLPClassifier
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(n_samples=100, random_state=1)
    >>> clf = MLPClassifier(random_state=1, max_iter=300).fit(X, y)
    >>> clf.predict(X[:5]).shape
    (5,)
""")

REGRESSOR = ("""Multi-layer Perceptron regressor on nnfast's kernels.

    This model optimizes the squared error (or the Poisson deviance) using
    LBFGS or stochastic gradient descent.

    Parameters
    ----------
""" + LOSS + PARAMETERS + """    Attributes
    ----------
""" + ATTRIBUTES + NOTES + """
    Examples
    --------
    >>> from nnfast.sklearn import MLPRegressor
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=200, n_features=20, random_state=1)
    >>> regr = MLPRegressor(random_state=1, max_iter=2000, tol=0.1).fit(X, y)
    >>> regr.predict(X[:2]).shape
    (2,)
""")


def method(summary, returns):
    """A decorator giving a method of X a numpydoc docstring: the summary, the X parameter and
    `returns` ("name : type" and its description lines)."""
    name, *lines = returns.split("\n")
    text = (f"{summary}\n\n        Parameters\n        ----------\n"
            "        X : {array-like, sparse matrix} of shape (n_samples, n_features)\n"
            "            The input data.\n\n        Returns\n        -------\n"
            f"        {name}\n" + "".join(f"            {line}\n" for line in lines) + "        ")

    def document(fn):
        fn.__doc__ = text
        return fn
    return document
