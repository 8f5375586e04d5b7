"""The training section's JAX peer, seen from the report: whether it can run, and one measurement
in a worker process (jax_worker.py) on the thread count asked for. The worker's interpreter is
NNFAST_BENCH_JAX_PYTHON when set (a separate environment with jax and optax, for a machine where
they conflict with the other peers), else this one."""
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

JAX_PYTHON = "NNFAST_BENCH_JAX_PYTHON"
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jax_worker.py")


def interpreter():
    return os.environ.get(JAX_PYTHON) or sys.executable


def _run(request, timeout):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "request.json")
        with open(path, "w") as f:
            json.dump(request, f)
        proc = subprocess.run([interpreter(), WORKER, path], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"the JAX worker failed ({interpreter()}): {tail[0]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def reason():
    """None when the JAX peer can run, else why not."""
    if os.environ.get(JAX_PYTHON):
        try:
            _run({"check": True, "threads": 1}, timeout=120)
        except (OSError, RuntimeError, subprocess.TimeoutExpired, ValueError) as err:
            return f"jax or optax is not usable from {JAX_PYTHON}={interpreter()} ({err})"
        return None
    missing = [m for m in ("jax", "optax") if importlib.util.find_spec(m) is None]
    return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed" if missing else None


def description():
    """'jax 0.x, optax 0.y' (and the interpreter when it is another one) or why it is skipped."""
    why = reason()
    if why:
        return f"jax: {why} (skipped)"
    if os.environ.get(JAX_PYTHON):
        v = _run({"check": True, "threads": 1}, timeout=120)
        return f"jax {v['jax']} with optax {v['optax']} in {interpreter()}"
    return f"jax {importlib.metadata.version('jax')} with optax {importlib.metadata.version('optax')}"


class DataFiles:
    """x and y saved once as .npy files for the workers (removed by close())."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory()
        self.saved = {}

    def paths(self, key, x, y):
        if key not in self.saved:
            xp, yp = (os.path.join(self.dir.name, f"{key}-{n}.npy") for n in ("x", "y"))
            np.save(xp, x)
            np.save(yp, y)
            self.saved[key] = (xp, yp)
        return self.saved[key]

    def close(self):
        self.dir.cleanup()


def timed_epochs(paths, dims, batch_size, threads, repeats, warmup_samples, seed=0, timeout=1800):
    """(seconds, mean loss) of each timed epoch of the JAX MLP on `threads` CPUs:
    compiled ahead of time, a warm-up epoch on the first warmup_samples, then `repeats` epochs."""
    result = _run(dict(x=paths[0], y=paths[1], dims=list(dims), batch_size=batch_size, threads=threads,
                       repeats=repeats, warmup_samples=warmup_samples, seed=seed), timeout=timeout)
    if result["cpus"] != threads:
        raise RuntimeError(f"the JAX worker got {result['cpus']} CPUs for {threads} threads")
    return result["seconds"], result["losses"]
