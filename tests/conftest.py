"""Shared fixtures and helpers for the nnfast test suite."""
import contextlib
import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import nnfast
from nnfast import reference

# The benchmark machinery's pause before each measurement only matters for real figures.
os.environ["NNFAST_BENCH_SETTLE"] = "0"
# Keras 3 is the oracle of the Keras-face tests, on PyTorch (CI installs both); set before any test
# module imports it, since Keras reads the backend once.
os.environ.setdefault("KERAS_BACKEND", "torch")

# Hypothesis profiles (the fuzz tests in tests/fuzz, docs/testing.md): "ci" is bounded to a few minutes on a
# slow machine and is the default; "long" runs on demand (HYPOTHESIS_PROFILE=long). No deadline: the machine
# is shared, and a hang is caught by tests/test_fuzz.py's timeout instead.
_FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
             print_blob=True)
# "ci" draws the same examples on every machine: not derandomized (Hypothesis's own CI default, which
# would ignore --hypothesis-seed) and no example database (which would replay a machine's old failures).
settings.register_profile("ci", max_examples=20, derandomize=False, database=None, **_FUZZ)
settings.register_profile("long", max_examples=2000, **_FUZZ)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))



def pytest_ignore_collect(collection_path, config):
    """tests/fuzz runs in a child process (tests/test_fuzz.py) unless it is named on the command line."""
    fuzz = pathlib.Path(__file__).parent / "fuzz"
    if pathlib.Path(collection_path) != fuzz:
        return None
    asked = [pathlib.Path(str(a).split("::")[0]).resolve() for a in config.args]
    return not any(p == fuzz or fuzz in p.parents for p in asked)


DTYPES = (np.float32, np.float64)
# Awkward lengths around and between SIMD widths (4/8/16 lanes) and past the threading threshold.
SIZES = (0, 1, 7, 8, 9, 15, 17, 64, 65, 1000, 70001)


@pytest.fixture(autouse=True)
def fixed_numpy_global_seed():
    """NumPy's global state seeded before every test: models built with seed=None draw their initial
    weights from it (as Keras's do), so each test sees the same weights whatever ran before it.
    Training parity against Keras is chaotic in its last bits: a few of the random draws put a
    5-epoch loss just past 1e-5 relative (a pre-activation within rounding of a kink, or Adam
    amplifying a gradient that is rounding noise), and the suite must not depend on test order."""
    np.random.seed(20261203)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@contextlib.contextmanager
def num_threads(n):
    """Run a block with nnfast using n threads, restoring the setting afterwards."""
    before = nnfast.get_num_threads()
    nnfast.set_num_threads(n)
    try:
        yield
    finally:
        nnfast.set_num_threads(before)


def ulp_tol(dtype, ulps=4):
    """assert_allclose tolerances of a few units in the last place for dtype."""
    eps = float(np.finfo(dtype).eps)
    return dict(rtol=ulps * eps, atol=ulps * float(np.finfo(dtype).tiny))


def assert_same_bits(a, b, what=""):
    """Exact equality, NaNs included (for 1-vs-2-thread determinism); `what` names the case."""
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), f"results differ in their bits {what}".rstrip()


TESTS_DIR = pathlib.Path(__file__).parent


def run_python(args, **env):
    """Run `python ARGS` in a child process with extra environment variables. The child starts in
    tests/, so it imports the installed nnfast, never the source folder of a checkout. A child forced
    onto another ISA level takes that level's own GEMM tile unless NNFAST_GEMM_MR is given too (the
    parent's may not exist there)."""
    child_env = dict(os.environ, **env)
    if "NNFAST_ISA" in env and "NNFAST_GEMM_MR" not in env:
        child_env.pop("NNFAST_GEMM_MR", None)
    return subprocess.run([sys.executable, *args], env=child_env, capture_output=True, text=True, cwd=TESTS_DIR)


def cpu_vendor():
    """/proc/cpuinfo's vendor_id ("GenuineIntel", "AuthenticAMD", ...), or None where it cannot be read:
    the tests of the choices nnfast makes per CPU vendor read it."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":")[1].strip() for line in f if line.startswith("vendor_id")), None)
    except OSError:
        return None


def assert_within(got, want, bound, what=""):
    """|got - want| <= bound elementwise (in float64); NaN in got fails."""
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    err = np.abs(got64 - want64)
    ok = err <= bound
    if not ok.all():
        i = np.unravel_index(np.argmax(np.where(ok, 0, err - bound)), got.shape)
        raise AssertionError(f"{what}: {np.count_nonzero(~ok)} of {got.size} elements outside the bound; "
                             f"worst at {i}: got {got64[i]!r}, expected {want64[i]!r}, bound {bound[i]!r}")


# ---- peers: the libraries nnfast's faces are checked against (skipped cleanly when absent) ----------

@pytest.fixture(scope="session")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="session", autouse=True)
def torch_threads_warmed_up():
    """The first operation torch splits over its threads in a process sometimes comes out inexact
    on the thread it hands the second half to: keras.activations.exponential of 4000 float32
    inputs, as the first such call, had its second half off by up to 1.5e-4 relative in 5 of about
    160 processes (session 24, torch 2.13, with no nnfast call made), and the same call right after
    was exact. So torch's threads run a split operation before any test reads torch or Keras as an
    oracle (nothing, without torch)."""
    if importlib.util.find_spec("torch") is None:
        return
    import torch
    warm_up = torch.linspace(-1.0, 1.0, 1 << 17)
    for _ in range(2):
        torch.exp(warm_up)


@pytest.fixture(scope="session")
def keras(torch):
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras runs on the {keras.backend.backend()} backend; these tests need KERAS_BACKEND=torch")
    return keras


def to_numpy(tensor):
    """A Keras (torch) result as a NumPy array (Keras' convert_to_numpy warns under NumPy 2's copy protocol)."""
    return tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)


# ---- models: which path fit takes ------------------------------------------------------------------

@pytest.fixture
def native_calls(monkeypatch):
    """The step counts of fit's calls to NativeRuns.run (0: it declined), as they happen."""
    calls = []
    from nnfast.models.native_step import NativeRuns
    original = NativeRuns.run

    def spy(self, *args, **kwargs):
        losses = original(self, *args, **kwargs)
        calls.append(len(losses or []))
        return losses

    monkeypatch.setattr(NativeRuns, "run", spy)
    return calls


# ---- optimizer tests: problems, trajectories on both thread counts, torch's argument names -----------

def random_problem(rng, sizes, dtype, steps=10):
    """Parameters of the given sizes and `steps` lists of fresh gradients, all of dtype."""
    params = [rng.standard_normal(n).astype(dtype) for n in sizes]
    grads = [[rng.standard_normal(n).astype(dtype) for n in sizes] for _ in range(steps)]
    return params, grads


def on_both_thread_counts(run):
    """run() with 1 and with 2 threads: identical bits required; the 1-thread result."""
    with num_threads(1):
        one = run()
    with num_threads(2):
        two = run()
    for a, b in zip(one, two):
        assert_same_bits(a, b)
    return one


def assert_non_finite_gradients_propagate(cases, trajectory):
    """For every (optimizer, convention, kwargs) case, two steps on gradients holding NaN, +-inf,
    1 and 0 give the reference's parameters and state (NaN where it has NaN)."""
    g = np.array([np.nan, np.inf, -np.inf, 1.0, 0.0], np.float32)
    for opt, convention, kwargs in cases:
        params = [np.linspace(-1, 1, 5, dtype=np.float32)]
        with np.errstate(invalid="ignore"):
            want = trajectory(reference, opt, convention, kwargs, params, [[g]] * 2)
        got = trajectory(nnfast.ops, opt, convention, kwargs, params, [[g]] * 2)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b, err_msg=f"{opt} {convention} {kwargs}")


def nnfast_kwargs(torch_kwargs, names):
    """torch.optim keyword arguments in nnfast's spelling (betas split; `names` renames the rest)."""
    out = {}
    for key, value in torch_kwargs.items():
        if key == "betas":
            out["beta_1"], out["beta_2"] = value
        else:
            out[names.get(key, key)] = value
    return out


def case_id(case):
    name, kwargs = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults")


def assert_torch_defaults(torch, torch_name, nnfast_class, names, implementation_flags):
    """An nnfast optimizer built with only convention="torch" has torch.optim's defaults, and no
    hyperparameter torch lacks."""
    peer = getattr(torch.optim, torch_name)([torch.nn.Parameter(torch.zeros(3))]).defaults
    config = nnfast_class(convention="torch").get_config()
    want = nnfast_kwargs({k: v for k, v in peer.items() if k not in implementation_flags}, names)
    assert {k: config[k] for k in want} == want
    own = set(config) - {"name", "convention", "clipnorm", "clipvalue", "global_clipnorm"}
    assert own == set(want)
