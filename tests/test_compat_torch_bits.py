"""nnfast.compat.torch bit for bit against torch.optim where nnfast follows torch's vectorized
arithmetic (docs/design.md, "Roundings of the torch convention"): SGD (plain, momentum, dampening,
nesterov, L2 decay, maximize) and Adamax, every element of every step equal; Adam and AdamW, their
moments (lerp_ and addcmul_). Adam's parameters themselves can differ in the last bit: torch's
AVX-512 sqrt is Sleef's (within 0.5001 ulp, not always the correctly rounded one nnfast computes).

torch uses its vectorized kernels on every CPU with AVX2, AVX-512 or NEON; on a CPU without them
(or with ATEN_CPU_CAPABILITY=default) it rounds each op separately, and these tests skip there.
The tolerance-based parity tests (test_compat_torch.py) cover every optimizer everywhere."""
import numpy as np
import pytest

from conftest import case_id

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adamax", dict(lr=1e-2, betas=(0.3, 0.99), maximize=True)),  # lerp's |w| >= 0.5 branch
]
# Adam's moments depend on the gradients only (no L2 decay): equal bits whatever sqrt gave w
MOMENT_CASES = [
    ("Adam", dict()),
    ("Adam", dict(lr=1e-2, betas=(0.3, 0.99), amsgrad=True)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.05, maximize=True)),
]
SHAPES = ((1,), (7,), (17, 9), (65,), (1003,))


@pytest.fixture(scope="module")
def vectorized_torch(torch):
    if torch.backends.cpu.get_cpu_capability() == "DEFAULT":
        pytest.skip("torch runs its scalar kernels here (no AVX2/AVX-512/NEON, or ATEN_CPU_CAPABILITY=default)")
    return torch


def trajectory(torch, cls, kwargs, dtype, steps=12, moments=False):
    """The parameters after `steps` steps of fresh random gradients (or, with `moments`, every
    step's optimizer state arrays)."""
    rng = np.random.default_rng(5)
    params = [torch.nn.Parameter(torch.from_numpy(rng.standard_normal(s).astype(dtype))) for s in SHAPES]
    opt = cls(params, foreach=False, **kwargs) if cls.__module__.startswith("torch.") else cls(params, **kwargs)
    states = []
    for _ in range(steps):
        for p in params:
            p.grad = torch.from_numpy(rng.standard_normal(p.shape).astype(dtype))
        opt.step()
        states += [v.numpy().copy() for p in params for k, v in sorted(opt.state[p].items()) if k != "step"]
    return states if moments else [p.detach().numpy().copy() for p in params]


@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=("float32", "float64"))
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_same_bits_as_torch_vectorized_kernels(vectorized_torch, case, dtype):
    import nnfast.compat.torch as compat
    name, kwargs = case
    want = trajectory(vectorized_torch, getattr(vectorized_torch.optim, name), kwargs, dtype)
    got = trajectory(vectorized_torch, getattr(compat, name), kwargs, dtype)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=("float32", "float64"))
@pytest.mark.parametrize("case", MOMENT_CASES, ids=[case_id(c) for c in MOMENT_CASES])
def test_adam_moments_same_bits_as_torch_vectorized_kernels(vectorized_torch, case, dtype):
    import nnfast.compat.torch as compat
    name, kwargs = case
    want = trajectory(vectorized_torch, getattr(vectorized_torch.optim, name), kwargs, dtype, moments=True)
    got = trajectory(vectorized_torch, getattr(compat, name), kwargs, dtype, moments=True)
    assert len(got) == len(want) > 0
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
