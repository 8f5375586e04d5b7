"""nnfast.sklearn.MLPClassifier: scikit-learn's MLPClassifier on nnfast's kernels."""
import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import docs
from .base import BaseMLP, stochastic_solver
from .params import fit_context


def first_partial_fit(clf, classes):
    """scikit-learn's partial_fit check of `classes`: True on the first call (classes_ set then)."""
    known = getattr(clf, "classes_", None)
    if known is None and classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if classes is None:
        return False
    if known is not None:
        if not np.array_equal(known, unique_labels(classes)):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call to partial_fit, was: {known!r}")
        return False
    clf.classes_ = unique_labels(classes)
    return True


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = docs.CLASSIFIER

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        super().__init__(hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver, alpha=alpha,
                         batch_size=batch_size, learning_rate=learning_rate, learning_rate_init=learning_rate_init,
                         power_t=power_t, max_iter=max_iter, loss="log_loss", shuffle=shuffle,
                         random_state=random_state, tol=tol, verbose=verbose, warm_start=warm_start,
                         momentum=momentum, nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         n_iter_no_change=n_iter_no_change, max_fun=max_fun)

    def _output_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        # incremental  warm_start  classes_ set  ->  action
        #      0           0/1         no            define classes_
        #      0            0          yes           redefine classes_
        #     0/1           1          yes           check the classes match (warm start)
        #      1            0          yes           check y's classes are known (last fit)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same classes as in the "
                                     f"previous call to fit. Previously got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                                 f"'y' has {classes}.")
        # bool, as scikit-learn's (its float32 data is not upcast)
        return X, self._label_binarizer.transform(y).astype(bool)

    def _validation_targets(self, y_val):
        return self._label_binarizer.inverse_transform(y_val)

    @docs.method("Predict using the multi-layer perceptron classifier.",
                 "y : ndarray, shape (n_samples,) or (n_samples, n_classes)\nThe predicted classes.")
    def predict(self, X):
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    @available_if(stochastic_solver)
    @fit_context
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit. Can be obtained via
            `np.unique(y_all)`, where y_all is the target vector of the entire
            dataset. This argument is required for the first call to
            partial_fit and can be omitted in the subsequent calls. Note that
            y doesn't need to contain all labels in `classes`.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        if first_partial_fit(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    @docs.method("Return the log of probability estimates.",
                 "log_y_prob : ndarray of shape (n_samples, n_classes)\n"
                 "The predicted log-probability of the sample for each class in the\n"
                 "model, where classes are ordered as they are in `self.classes_`.\n"
                 "Equivalent to `log(predict_proba(X))`.")
    def predict_log_proba(self, X):
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    @docs.method("Probability estimates.",
                 "y_prob : ndarray of shape (n_samples, n_classes)\n"
                 "The predicted probability of the sample for each class in the\n"
                 "model, where classes are ordered as they are in `self.classes_`.")
    def predict_proba(self, X):
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
