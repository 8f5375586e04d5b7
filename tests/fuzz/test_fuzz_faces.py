"""Fuzzing of the faces (issue #17, item 2): nnfast.keras's loss functions and utils, the torch.optim
optimizers of nnfast.compat.torch (against torch.optim itself) and nnfast.sklearn's estimators, with
hostile arrays and arguments."""
import warnings

import numpy as np
import pytest
from hostile import WEIRD, changed, check, copies, hostile_array, record_call, snapshot, values
from hypothesis import assume, given
from hypothesis import strategies as st

KERAS_LOSSES = ("mean_squared_error", "mean_absolute_error", "binary_crossentropy", "categorical_crossentropy",
                "sparse_categorical_crossentropy", "hinge", "huber", "kl_divergence", "log_cosh", "poisson",
                "cosine_similarity", "categorical_hinge", "mean_absolute_percentage_error")


@pytest.fixture(scope="module")
def nkeras():
    import nnfast.keras as keras
    return keras


@pytest.mark.parametrize("name", KERAS_LOSSES)
@given(data=st.data())
def test_keras_loss_function_fuzz(nkeras, name, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    b, c = data.draw(st.integers(0, 5)), data.draw(st.integers(1, 4))
    dtype = data.draw(st.sampled_from((np.float32, np.float64)))
    y_pred = np.abs(values(rng, (b, c), dtype, data.draw(st.sampled_from((0.0, 0.2)))))
    y_true = rng.integers(0, c, b) if name.startswith("sparse") else np.eye(c, dtype=dtype)[rng.integers(0, c, b)]
    kwargs = {"y_true": y_true, "y_pred": y_pred}
    target = data.draw(st.sampled_from(("valid", "y_true", "y_pred")))
    if target != "valid":
        kind, kwargs[target] = data.draw(hostile_array(kwargs[target]))
        # a huge y_pred asks for a huge result: NumPy's MemoryError, as in Keras; a huge y_true must not
        assume(not (kind == "huge" and target == "y_pred"))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        check(getattr(nkeras.losses, name), kwargs, name=f"keras.losses.{name}")


@given(data=st.data())
def test_keras_to_categorical_fuzz(nkeras, data):
    kwargs = {"x": np.arange(data.draw(st.integers(0, 6))) % 3, "num_classes": 3}
    target = data.draw(st.sampled_from(("valid", "x", "num_classes")))
    if target == "x":
        kind, kwargs["x"] = data.draw(hostile_array(kwargs["x"]))
        assume(kind != "huge")  # a huge x asks for a huge result: NumPy's MemoryError
    elif target == "num_classes":
        # (a huge class count asks for a huge result: NumPy's MemoryError)
        kwargs["num_classes"] = data.draw(st.sampled_from([v for v in WEIRD if not isinstance(v, int) or v < 2 ** 20]))
    check(nkeras.utils.to_categorical, kwargs, name="keras.utils.to_categorical")


# ---- nnfast.compat.torch against torch.optim ---------------------------------------------------------

TORCH = {"SGD": dict(lr=0.05, momentum=0.5, dampening=0.0, weight_decay=0.01, nesterov=False, maximize=False),
         "Adam": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.01, amsgrad=True, maximize=False),
         "AdamW": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.01, amsgrad=False),
         "Adagrad": dict(lr=0.05, lr_decay=0.01, weight_decay=0.0, initial_accumulator_value=0.1, eps=1e-10),
         "RMSprop": dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.5, centered=True),
         "Adamax": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.01),
         "NAdam": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8, momentum_decay=4e-3, decoupled_weight_decay=True),
         "RAdam": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.01),
         "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0)}
TORCH_NAMES = {"lr": "learning rate", "eps": "epsilon", "betas": "beta", "rho": "rho", "alpha": "alpha"}


@pytest.mark.parametrize("cls_name", sorted(TORCH))
@given(data=st.data())
def test_torch_optimizer_fuzz(torch, cls_name, data):
    import nnfast.compat.torch as noptim
    kwargs = dict(TORCH[cls_name])
    target = data.draw(st.sampled_from(("valid",) + tuple(kwargs)), label="fuzzed")
    if target != "valid":
        # (not 0 or 5e-324: such a rho/alpha makes centered RMSprop's v - a^2 cancel to 0, which torch's
        # fused addcmul and nnfast's separate rounding may leave at +0 or -tiny: NaN after the sqrt)
        kwargs[target] = data.draw(st.sampled_from([v for v in WEIRD if not (isinstance(v, float) and abs(v) < 1e-300)]
                                                   + [(0.9, 1.5), (np.nan, 0.9), (0.9,)]), label=target)
    dtype = data.draw(st.sampled_from((torch.float32, torch.float64)))
    gen = torch.Generator().manual_seed(data.draw(st.integers(0, 2 ** 31)))
    shapes = [(3, 4), (5,), (0,)]
    start = [torch.randn(s, generator=gen, dtype=dtype) for s in shapes]
    ours = [p.clone().requires_grad_() for p in start]
    theirs = [p.clone().requires_grad_() for p in start]
    names = set(kwargs) | set(TORCH_NAMES.values()) | {"params"}
    made = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reference = getattr(torch.optim, cls_name)(theirs, **kwargs)
            refused = None
        except Exception as err:  # noqa: BLE001 - torch refuses it (in its own words)
            reference, refused = None, err
        if refused is not None:  # the subclass runs torch's own checks: the same error is parity
            try:
                getattr(noptim, cls_name)(ours, **kwargs)
            except type(refused) as err:
                assert str(err) == str(refused)
                return
            raise AssertionError(f"torch.optim.{cls_name} refuses {kwargs} ({refused!r}), nnfast does not")
        if check(lambda **kw: made.setdefault("opt", getattr(noptim, cls_name)(ours, **kw)), kwargs,
                 names=names, name=f"compat.torch.{cls_name}", refs=False) is not None:
            return
    layout = data.draw(st.sampled_from(("contiguous", "transposed", "expanded", "nan")), label="grad layout")
    for _ in range(2):
        for p, q in zip(ours, theirs):
            g = torch.randn(p.shape, generator=gen, dtype=dtype)
            if layout == "transposed" and g.dim() == 2:
                g = g.t().contiguous().t()
            elif layout == "expanded" and g.numel():
                g = g.reshape(-1)[:1].expand(g.shape)
            elif layout == "nan" and g.numel():
                g = g.clone()
                g.reshape(-1)[0] = float("nan")
            p.grad, q.grad = g.clone() if layout != "expanded" else g, g.clone()
        before = [p.detach().clone() for p in ours]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                reference.step()
                torch_failed = False
            except (OverflowError, RuntimeError, TypeError, ValueError):  # torch's own limits (2**70 as a float)
                torch_failed = True
            failed = check(lambda: made["opt"].step(), {}, names=names | {"grad", "param", "learning_rate"},
                           name=f"compat.torch.{cls_name}.step")
        if failed is not None:
            assert all(torch.equal(p.detach(), b) for p, b in zip(ours, before)), "a refused step wrote"
            return
        if torch_failed:
            return
        for p, q in zip(ours, theirs):
            # torch keeps step scalars (NAdam's mu_product) in float32 tensors and rounds a huge lr (2**70)
            # in another order: float32-level agreement in both dtypes
            torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-5, atol=1e-6, equal_nan=True)


# ---- nnfast.sklearn -----------------------------------------------------------------------------------

SKLEARN = dict(hidden_layer_sizes=(4,), activation="relu", solver="adam", alpha=1e-4, batch_size=4,
               learning_rate_init=1e-2, max_iter=2, tol=1e-4, momentum=0.9, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
               validation_fraction=0.1, n_iter_no_change=2, random_state=0)


@pytest.mark.parametrize("estimator", ("MLPClassifier", "MLPRegressor"))
@given(data=st.data())
def test_sklearn_fuzz(estimator, data):
    from sklearn import neural_network

    from nnfast import sklearn as nsk
    cls = getattr(nsk, estimator)
    params = dict(SKLEARN)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    n = data.draw(st.integers(1, 12))
    x = values(rng, (n, 3), data.draw(st.sampled_from((np.float32, np.float64))), 0.0)
    y = rng.integers(0, 2, n) if estimator == "MLPClassifier" else values(rng, (n,), np.float64)
    fit = {"X": x, "y": y}
    target = data.draw(st.sampled_from(("valid", "X", "y") + tuple(params)), label="fuzzed")
    if target in fit:
        kind, fit[target] = data.draw(hostile_array(fit[target]), label=target)
        # (a huge zero-stride X or y is hours of scikit-learn's own finiteness check, then of training,
        # in both libraries: a long run, not an error; not drawn)
        assume(kind != "huge")
    elif target != "valid":  # (a huge max_iter is a long fit, not an error: not drawn)
        params[target] = data.draw(st.sampled_from([v for v in WEIRD if not (isinstance(v, int) and v > 9)]),
                                   label=target)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        peer = getattr(neural_network, estimator)
        record_call(f"sklearn.neural_network.{estimator}({params}).fit()")
        expected = outcome_of(lambda: peer(**params).fit(**copies(fit)))
        record_call(f"nnfast.sklearn.{estimator}({params}).fit()")
        before = snapshot(fit)
        got = outcome_of(lambda: cls(**params).fit(**fit))
        assert not changed(before), f"{estimator}.fit modified its input"
    # scikit-learn's face: the error scikit-learn raises (its own checks run), or none when it has none
    if expected is None:
        assert got is None, f"{estimator}({params}).fit raised {got!r}; scikit-learn fits"
    else:
        # (nnfast.sklearn's InvalidParameterError is its own class, of scikit-learn's name and bases)
        assert got is not None and type(got).__name__ == type(expected).__name__, \
            f"{estimator}({params}).fit: scikit-learn raises {expected!r}, nnfast {got!r}"


def outcome_of(run):
    try:
        run()
    except (RecursionError, SystemError) as err:  # never a broken interpreter state
        raise AssertionError(f"{err!r}") from err
    except Exception as err:  # noqa: BLE001 - compared with scikit-learn's
        return err
    return None
