"""The training section's JAX peer, run as its own process (`python jax_worker.py REQUEST.json`) so
that each thread count gets a fresh XLA runtime (its thread pool is sized once, from the CPUs the
process may use) and so that JAX may live in another environment (NNFAST_BENCH_JAX_PYTHON). It
imports only NumPy, JAX and optax, never nnfast.

The MLP epoch as JAX users write the fast path: Glorot-uniform weights and zero biases, relu then
softmax cross-entropy on integer labels, Adam from optax (lr 1e-3, betas 0.9/0.999, eps 1e-7); the
whole epoch (a shuffle drawn from a key, lax.scan over the full batches, then the last partial
batch) is one jit-compiled function, compiled ahead of time for the timed data's shape."""
import json
import os
import sys
import time


def limit_cpus(threads):
    """Keeps this process on `threads` of its CPUs; call before JAX is imported (XLA sizes its
    thread pool from the CPUs it may run on)."""
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cpus)
    if threads == 1:  # and no Eigen intra-op pool beside the one core
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    return cpus


def versions():
    import jax
    import optax
    return {"jax": jax.__version__, "optax": optax.__version__}


class Trainer:
    """epoch(x, y) trains one shuffled pass and returns its mean loss; params are (W1, b1, W2, b2)."""

    def __init__(self, dims, batch_size, seed=0, learning_rate=1e-3, epsilon=1e-7, params=None, shuffle=True):
        import jax
        import jax.numpy as jnp
        import numpy as np
        import optax
        self.jax, self.jnp, self.optax, self.batch_size, self.shuffle = jax, jnp, optax, batch_size, shuffle
        if params is None:
            rng = np.random.default_rng(seed)
            params = []
            for fan_in, fan_out in zip(dims[:-1], dims[1:]):
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                params += [rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                           np.zeros(fan_out, np.float32)]
        self.params = tuple(jnp.asarray(p) for p in params)
        self.opt = optax.adam(learning_rate, b1=0.9, b2=0.999, eps=epsilon)
        self.opt_state = self.opt.init(self.params)
        self.key = jax.random.PRNGKey(seed)
        self._compiled = {}

    def _loss(self, params, x, y):
        w1, b1, w2, b2 = params
        logits = self.jnp.maximum(x @ w1 + b1, 0.0) @ w2 + b2
        return self.optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def _epoch(self, params, opt_state, key, x, y):
        jax, jnp, bs = self.jax, self.jnp, self.batch_size
        n = x.shape[0]
        order = jax.random.permutation(key, n) if self.shuffle else jnp.arange(n)
        full = n // bs
        grad = jax.value_and_grad(self._loss)

        def step(carry, idx):
            p, s = carry
            loss, g = grad(p, x[idx], y[idx])
            updates, s = self.opt.update(g, s, p)
            return (jax.tree_util.tree_map(lambda a, u: a + u, p, updates), s), loss * idx.shape[0]

        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), order[:full * bs].reshape(full, bs))
        total = losses.sum()
        if n % bs:
            (params, opt_state), last = step((params, opt_state), order[full * bs:])
            total = total + last
        return params, opt_state, total / n

    def compile(self, x, y):
        """The epoch for x's and y's shapes, compiled ahead of time (cached)."""
        shape = (x.shape, y.shape)
        if shape not in self._compiled:
            fn = self.jax.jit(self._epoch)
            self._compiled[shape] = fn.lower(self.params, self.opt_state, self.key, x, y).compile()
        return self._compiled[shape]

    def epoch(self, x, y):
        fn = self.compile(x, y)
        self.key, sub = self.jax.random.split(self.key)
        self.params, self.opt_state, loss = fn(self.params, self.opt_state, sub, x, y)
        return float(loss)  # waits for the result

    def accuracy(self, x, y):
        import numpy as np
        w1, b1, w2, b2 = (np.asarray(p) for p in self.params)
        return float(np.mean((np.maximum(x @ w1 + b1, 0) @ w2 + b2).argmax(axis=1) == y))


def timed_epochs(request):
    """The request's measurement: {"x", "y"} .npy paths, "batch_size", "repeats", "warmup_samples",
    "seed", "dims"; returns {"seconds": [...], "losses": [...] (each timed epoch's mean loss), versions}."""
    import jax
    import numpy as np
    x, y = np.load(request["x"]), np.load(request["y"]).astype(np.int32)
    trainer = Trainer(tuple(request["dims"]), request["batch_size"], seed=request.get("seed", 0))
    xd, yd = jax.device_put(x), jax.device_put(y)
    trainer.compile(xd, yd)  # compiling is not timed
    warm = request["warmup_samples"]
    trainer.epoch(jax.device_put(x[:warm]), jax.device_put(y[:warm]))
    seconds, losses = [], []
    for _ in range(request["repeats"]):
        start = time.perf_counter()
        losses.append(trainer.epoch(xd, yd))
        seconds.append(time.perf_counter() - start)
    return dict(seconds=seconds, losses=losses, **versions())


def main(argv):
    with open(argv[1]) as f:
        request = json.load(f)
    cpus = limit_cpus(request["threads"])
    result = versions() if request.get("check") else timed_epochs(request)
    result["cpus"] = len(cpus)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
