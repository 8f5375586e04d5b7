"""What MLPClassifier and MLPRegressor share: scikit-learn's BaseMultilayerPerceptron written
again over nnfast's kernels - its parameters, initialisation (the same draws from the same
random_state, in the same order), shuffling, batching, early stopping, convergence warnings and
fitted attributes; the numbers go through nnfast.sklearn.network and nnfast.sklearn.solvers."""
import numbers
import warnings
from itertools import chain

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches, shuffle
from sklearn.utils.validation import check_array, validate_data

from . import native, solvers
from . import network as net
from .params import fit_context

STOCHASTIC_SOLVERS = ("sgd", "adam")


def check_sample_weight(sample_weight, X):
    """scikit-learn's sample_weight check for fit: a 1-D float array of X's length (a scalar
    repeats), finite, not all zero."""
    n = X.shape[0]
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n, sample_weight, dtype=X.dtype)
    else:
        sample_weight = check_array(sample_weight, accept_sparse=False, ensure_2d=False,
                                    dtype=[np.float64, np.float32], order="C", input_name="sample_weight")
        if sample_weight.ndim != 1:
            raise ValueError(f"Sample weights must be 1D array or scalar, got {sample_weight.ndim}D array. "
                             f"Expected either a scalar value or a 1D array of length {n}.")
        if sample_weight.shape != (n,):
            raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected {(n,)}!")
    if np.all(sample_weight == 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight


def stochastic_solver(estimator):
    """MLPClassifier.partial_fit's availability: only with a stochastic solver."""
    if estimator.solver not in STOCHASTIC_SOLVERS:
        raise AttributeError(f"partial_fit is only available for stochastic optimizers. {estimator.solver} is not "
                             "stochastic.")
    return True


class BaseMLP(BaseEstimator):
    """Base class of nnfast.sklearn's estimators; use MLPClassifier or MLPRegressor."""

    # Whether a multiclass fit without sample weights on dense data runs whole epochs in native calls
    # (nnfast.sklearn.native); False runs every step from Python, over the same kernels.
    native_epochs = True

    def __init__(self, hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate, learning_rate_init,
                 power_t, max_iter, loss, shuffle, random_state, tol, verbose, warm_start, momentum,
                 nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2, epsilon, n_iter_no_change,
                 max_fun):
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    # --- initialisation -------------------------------------------------------------------------

    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            coef, intercept = self._init_coef(fan_in, fan_out, dtype)
            self.coefs_.append(coef)
            self.intercepts_.append(intercept)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]
        if self.solver in STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _init_coef(self, fan_in, fan_out, dtype):
        # Glorot's uniform initialisation, scikit-learn's factors and draws
        factor = 2.0 if self.activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = self._random_state.uniform(-bound, bound, fan_out)
        return coef.astype(dtype, copy=False), intercept.astype(dtype, copy=False)

    # --- fit --------------------------------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden = self.hidden_layer_sizes
        hidden = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
        if np.any(np.array(hidden) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [X.shape[1]] + hidden + [self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)

        # train on an arena of the coefficients' dtype; coefs_ and intercepts_ become its views
        dtype = self.coefs_[0].dtype if self.coefs_[0].dtype in (np.float32, np.float64) else np.dtype(np.float64)
        network = net.Network(layer_units, self.activation, self.out_activation_, dtype)
        network.load(self.coefs_, self.intercepts_)
        self.coefs_, self.intercepts_ = network.coefs, network.intercepts
        if not hasattr(X, "toarray"):
            X = np.ascontiguousarray(X, dtype=dtype)
        if sample_weight is not None:
            sample_weight = sample_weight.astype(dtype, copy=False)

        if self.solver in STOCHASTIC_SOLVERS:
            self._fit_stochastic(network, X, y, sample_weight, incremental)
        else:
            self.n_iter_, self.loss_ = solvers.lbfgs(network, net.dense_rows(X, dtype), np.asarray(y, dtype),
                                                     sample_weight, self.alpha, self.max_iter, self.max_fun,
                                                     self.tol, self.verbose)
        if not all(np.isfinite(w).all() for w in chain(self.coefs_, self.intercepts_)):
            raise ValueError("Solver produced non-finite parameter weights. The input data may contain large "
                             "values and need to be preprocessed.")
        return self

    def _fit_stochastic(self, network, X, y, sample_weight, incremental):
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = solvers.solver_for(self.get_params(deep=False), network.params)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            # don't stratify in multilabel classification
            stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
            weights = () if sample_weight is None else (sample_weight,)
            split = train_test_split(X, y, *weights, random_state=self._random_state,
                                     test_size=self.validation_fraction, stratify=stratify)
            X_train, X_val, y_train, y_val = split[:4]
            sw_train, sw_val = split[4:] if weights else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of "
                                 "your dataset.")
            y_val = self._validation_targets(y_val)
        else:
            X_train, y_train, sw_train = X, y, sample_weight
            X_val = y_val = sw_val = None

        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=int)
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                              stacklevel=4)
            batch_size = np.clip(self.batch_size, 1, n_samples)

        batches = Batches(X_train, y_train, sw_train, network.dtype)
        epochs = (native.NativeEpochs(network, self._optimizer, self.alpha, X_train, np.argmax(y_train, axis=1))
                  if self.native_epochs and native.applicable(network, sw_train, X_train) else None)
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    sample_idx = shuffle(sample_idx, random_state=self._random_state)
                accumulated_loss = 0.0
                slices = list(gen_batches(n_samples, batch_size))
                done = 0
                if epochs is not None:
                    done, accumulated_loss = epochs.run(sample_idx, slices, accumulated_loss)
                for batch_slice in slices[done:]:
                    xb, yb, swb = batches.take(sample_idx[batch_slice] if self.shuffle else batch_slice)
                    batch_loss = network.loss_grad(xb, yb, self.alpha, swb)
                    accumulated_loss += batch_loss * (batch_slice.stop - batch_slice.start)
                    self._optimizer.update(network.params, network.grads)
                self._end_epoch(accumulated_loss / n_samples, n_samples, early_stopping, X_val, y_val, sw_val)
                if self._no_improvement_count > self.n_iter_no_change and self._stop_or_slow_down(early_stopping):
                    break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter:d}) reached and the "
                                  "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=4)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=4)
        if early_stopping:  # restore the best weights
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _end_epoch(self, loss, n_samples, early_stopping, X_val, y_val, sw_val):
        self.n_iter_ += 1
        self.loss_ = loss
        self.t_ += n_samples
        self.loss_curve_.append(self.loss_)
        if self.verbose:
            print(f"Iteration {self.n_iter_:d}, loss = {self.loss_:.8f}")
        self._update_no_improvement_count(early_stopping, X_val, y_val, sw_val)
        self._optimizer.iteration_ends(self.t_)

    def _stop_or_slow_down(self, early_stopping):
        """Whether training stops after `n_iter_no_change` epochs without improvement (an adaptive
        learning rate is divided by 5 instead, while it stays above 1e-6)."""
        if early_stopping:
            msg = (f"Validation score did not improve more than tol={self.tol:f} for {self.n_iter_no_change:d} "
                   "consecutive epochs.")
        else:
            msg = (f"Training loss did not improve more than tol={self.tol:f} for {self.n_iter_no_change:d} "
                   "consecutive epochs.")
        if self._optimizer.trigger_stopping(msg, self.verbose):
            return True
        self._no_improvement_count = 0
        return False

    def _update_no_improvement_count(self, early_stopping, X, y, sample_weight):
        if early_stopping:
            # the validation score (can be NaN) decides
            self.validation_scores_.append(self._score(X, y, sample_weight=sample_weight))
            if self.verbose:
                print(f"Validation score: {self.validation_scores_[-1]:f}")
            last_valid_score = self.validation_scores_[-1]
            if last_valid_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last_valid_score > self.best_validation_score_:
                self.best_validation_score_ = last_valid_score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    @fit_context
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
            The input data.

        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Returns a trained MLP model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    # --- prediction -------------------------------------------------------------------------------

    def _forward_pass_fast(self, X, check_input=True):
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        return net.forward(self.coefs_, self.intercepts_, self.activation, self.out_activation_, X)

    def _score_with_function(self, X, y, sample_weight, score_function):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Batches:
    """The rows of a training set for each batch, gathered into reused C-contiguous buffers of the
    network's dtype (a sparse X is densified batch by batch)."""

    def __init__(self, X, y, sample_weight, dtype):
        self.X, self.sample_weight, self.dtype = X, sample_weight, dtype
        self.y = np.ascontiguousarray(y, dtype)
        self.sparse = hasattr(X, "toarray")
        self.buffers = {}

    def take(self, rows):
        sw = None if self.sample_weight is None else self.sample_weight[rows]
        if isinstance(rows, slice):
            xb = self.X[rows]
            return (net.dense_rows(xb, self.dtype) if self.sparse else xb), self.y[rows], sw
        n = len(rows)
        if self.sparse:
            return net.dense_rows(self.X[rows], self.dtype), self.y[rows], sw
        bufs = self.buffers.get(n)
        if bufs is None:
            if len(self.buffers) >= 2:
                self.buffers.clear()
            bufs = self.buffers[n] = (np.empty((n, self.X.shape[1]), self.dtype),
                                      np.empty((n, self.y.shape[1]), self.dtype))
        np.take(self.X, rows, axis=0, out=bufs[0])
        np.take(self.y, rows, axis=0, out=bufs[1])
        return bufs[0], bufs[1], sw
