"""scikit-learn's MLP solvers on nnfast: SGD (momentum, Nesterov, its learning-rate schedules) and
Adam as sklearn.neural_network's stochastic optimizers define them, each step one fused nnfast
update of the whole parameter arena, and L-BFGS through scipy.optimize with nnfast computing the
loss and its gradient.

scikit-learn's SGD is nnfast's keras-convention SGD (``v = mu*v - lr*g; w += v``, Nesterov
``w += mu*v - lr*g``) operation for operation; its Adam is the keras-convention Adam
(``lr_t = lr*sqrt(1-b2^t)/(1-b1^t); w -= lr_t*m/(sqrt(v) + eps)``), whose moment updates
``m += (1-b1)*(g-m)`` equal scikit-learn's ``m = b1*m + (1-b1)*g`` up to rounding."""
import warnings

import numpy as np
import scipy
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from .. import ops
from ..utils import aligned


class SGDSolver:
    """scikit-learn's SGDOptimizer (learning_rate, iteration_ends, trigger_stopping) over an arena."""

    def __init__(self, params, learning_rate_init, lr_schedule, momentum, nesterov, power_t):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = float(momentum)  # (a bool passes scikit-learn's validation; the ops take floats)
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocities = aligned.zeros_like(params)
        self.t = 0

    def update(self, params, grads):
        ops.sgd_update(params, grads, self.velocities if self.momentum else None, step=self.t + 1,
                       learning_rate=self.learning_rate, momentum=self.momentum,
                       nesterov=bool(self.nesterov), convention="keras")
        self.t += 1

    def native_update(self):
        """(ops function, its constant keyword arguments, its state arenas) for the native step."""
        kwargs = dict(momentum=self.momentum, nesterov=bool(self.nesterov), convention="keras", learning_rate=0.0,
                      step=1)
        return "sgd_update", kwargs, (self.velocities if self.momentum else None,)

    def learning_rate_now(self):
        return self.learning_rate

    def advance(self, steps):
        """Counts `steps` updates made natively."""
        self.t += steps

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False


class AdamSolver:
    """scikit-learn's AdamOptimizer over an arena (t counts its steps, as scikit-learn's)."""

    def __init__(self, params, learning_rate_init, beta_1, beta_2, epsilon):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        # (scikit-learn's validation takes a bool as a real number; the ops take floats)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0
        self.ms = aligned.zeros_like(params)
        self.vs = aligned.zeros_like(params)

    def update(self, params, grads):
        ops.adam_update(params, grads, self.ms, self.vs, None, step=self.t + 1,
                        learning_rate=self.learning_rate_init, beta_1=self.beta_1, beta_2=self.beta_2,
                        epsilon=self.epsilon, convention="keras")
        self.advance(1)

    def native_update(self):
        """(ops function, its constant keyword arguments, its state arenas) for the native step."""
        kwargs = dict(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon, convention="keras",
                      learning_rate=0.0, step=1)
        return "adam_update", kwargs, (self.ms, self.vs, None)

    def learning_rate_now(self):
        return self.learning_rate_init

    def advance(self, steps):
        """Counts `steps` updates; learning_rate is scikit-learn's bias-corrected step size."""
        if steps:
            self.t += steps
            self.learning_rate = (self.learning_rate_init * np.sqrt(1 - self.beta_2**self.t)
                                  / (1 - self.beta_1**self.t))

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True


def solver_for(estimator_params, params):
    """The stochastic solver scikit-learn would make for these estimator parameters (a dict)."""
    p = estimator_params
    if p["solver"] == "sgd":
        return SGDSolver(params, p["learning_rate_init"], p["learning_rate"], p["momentum"],
                         p["nesterovs_momentum"], p["power_t"])
    return AdamSolver(params, p["learning_rate_init"], p["beta_1"], p["beta_2"], p["epsilon"])


def lbfgs(network, x, y, sample_weight, alpha, max_iter, max_fun, tol, verbose):
    """Minimises the network's loss on (x, y) with scipy's L-BFGS-B from its current parameters, as
    scikit-learn's _fit_lbfgs: (iterations, final loss); the parameters end at the solution.
    scipy works in float64; a float32 network evaluates in float32."""
    def loss_grad(packed):
        network.params[...] = packed
        loss = network.loss_grad(x, y, alpha, sample_weight)
        return loss, network.grads.astype(np.float64)

    options = {"maxfun": max_fun, "maxiter": max_iter, "gtol": tol}
    if tuple(int(v) for v in scipy.__version__.split(".")[:2]) < (1, 15):  # iprint went away in 1.15
        options["iprint"] = 1 if verbose is True or verbose >= 1 else -1
    result = scipy.optimize.minimize(loss_grad, network.params.astype(np.float64), method="L-BFGS-B", jac=True,
                                     options=options)
    n_iter = min(result.nit, max_iter)
    if result.status != 0:
        message = (f"lbfgs failed to converge after {n_iter} iteration(s) (status={result.status}):\n"
                   f"{result.message}\n")
        if n_iter == max_iter:
            message += f"\nIncrease the number of iterations to improve the convergence (max_iter={max_iter})."
        message += ("\nYou might also want to scale the data as shown in:\n"
                    "    https://scikit-learn.org/stable/modules/preprocessing.html")
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    network.params[...] = result.x
    return n_iter, float(result.fun)
