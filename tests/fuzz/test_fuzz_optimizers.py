"""Fuzzing of nnfast.optimizers (issue #17, item 2): hostile constructor arguments, and apply() /
update() on hostile parameter and gradient lists. A step that runs equals the same optimizer on
nnfast.reference, bit for bit; a refused one names an argument and changes nothing: no parameter,
no slot, no step count."""
import inspect
import warnings

import numpy as np
import pytest
from hostile import ALLOWED, FLOATS, WEIRD, check, copies, hostile_array, snapshot, values
from hypothesis import given
from hypothesis import strategies as st

from nnfast import optimizers, reference
from nnfast.optimizers.keras_options import KERAS3_REFUSED

CLASSES = ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adamax", "Nadam", "RAdam", "Adadelta", "Lion", "Ftrl")
# Valid non-default values of the constructors' arguments (each drawn or left at its default).
OPTIONS = dict(learning_rate=0.05, momentum=0.5, nesterov=True, amsgrad=True, centered=True, weight_decay=0.01,
               clipnorm=1.0, clipvalue=0.5, global_clipnorm=2.0, rho=0.8, epsilon=1e-6, beta_1=0.8, beta_2=0.99,
               maximize=True, initial_accumulator_value=0.2, decay=0.01, l1_regularization_strength=0.01)


@st.composite
def constructor(draw, cls):
    """Keyword arguments of optimizers.CLS: defaults, valid options and at most one hostile value."""
    params = inspect.signature(cls).parameters
    kwargs = {}
    convention = "torch" if cls.__name__ == "RAdam" else draw(st.sampled_from(optimizers.CONVENTIONS))
    if "convention" in params:
        kwargs["convention"] = convention
    for name, value in OPTIONS.items():
        if name in params and draw(st.booleans()) and not (convention == "keras" and name == "maximize"):
            kwargs[name] = value
    clips = [c for c in ("clipnorm", "clipvalue", "global_clipnorm") if c in kwargs]
    for extra in clips[1:]:
        del kwargs[extra]
    if kwargs.get("nesterov") and convention == "torch":
        kwargs["momentum"] = 0.5
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(p for p in params if p != "name")))
        kwargs[name] = draw(st.sampled_from(WEIRD))
    return kwargs


@st.composite
def tensors(draw):
    """(params, grads): 1-3 arrays of one dtype; sometimes one of them replaced by something hostile."""
    dtype = draw(st.sampled_from(FLOATS))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    special = draw(st.sampled_from((0.0, 0.0, 0.2)))
    shapes = [tuple(draw(st.integers(0, 4)) for _ in range(draw(st.integers(0, 3))))
              for _ in range(draw(st.integers(1, 3)))]
    params = [values(rng, s, dtype, special) for s in shapes]
    grads = [values(rng, s, dtype, special) for s in shapes]
    kind = draw(st.sampled_from(("valid", "valid", "params", "grads", "alias", "length", "container")))
    if kind in ("params", "grads"):
        target = params if kind == "params" else grads
        i = draw(st.integers(0, len(target) - 1))
        _, target[i] = draw(hostile_array(target[i]))
    elif kind == "alias":
        grads[0] = params[0]
    elif kind == "length":
        grads = grads[:-1]
    elif kind == "container":
        return draw(st.sampled_from(WEIRD)), grads
    return params, grads


def same(got, want, what):
    # one ndarray is a one-element list to the optimizer (a 0-d one has no len)
    got, want = ([x] if isinstance(x, np.ndarray) else x for x in (got, want))
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, f"{what}[{i}]"
        assert nan_signless(g).tobytes() == nan_signless(w).tobytes(), f"{what}[{i}] differs from the reference"


def nan_signless(a):
    """`a` with every NaN made NumPy's NaN: a NaN's sign bit is not part of the contract (docs/design.md)."""
    return np.where(np.isnan(a), np.array(np.nan, a.dtype), a)


@pytest.mark.parametrize("cls_name", CLASSES)
@given(data=st.data())
def test_optimizer_fuzz(cls_name, data):
    cls = getattr(optimizers, cls_name)
    kwargs = data.draw(constructor(cls), label="kwargs")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        made = {}

        def build():
            made["opt"] = cls(**kwargs)
        # Keras 3's base options that would act (use_ema=True, ...) are refused as not implemented
        allowed = ALLOWED + ((NotImplementedError,) if set(kwargs) & set(KERAS3_REFUSED) else ())
        if check(lambda **_: build(), kwargs, names=set(inspect.signature(cls).parameters) | {"lr", "momentum"},
                 name=f"{cls_name}()", refs=False, allowed=allowed) is not None:  # (an optimizer keeps its arguments)
            return
        opt = made["opt"]
        twin = cls(**kwargs)
        twin.ops = reference
        via_dict = data.draw(st.booleans(), label="update(dict)")
        for step in range(data.draw(st.integers(1, 2), label="steps")):
            params, grads = data.draw(tensors(), label=f"step {step}")
            twin_params, twin_grads = copies(params), copies(grads)
            state = opt.get_state()["slots"] if opt.iterations else None
            iterations = opt.iterations

            use_dict = via_dict and isinstance(params, list) and isinstance(grads, list)

            def compare(_, params=params, twin_params=twin_params, twin_grads=twin_grads, iterations=iterations,
                        use_dict=use_dict):
                if use_dict:
                    twin.update(dict(enumerate(twin_params)), dict(enumerate(twin_grads)))
                else:
                    twin.apply(twin_params, twin_grads)
                same(params, twin_params, "params")
                assert opt.iterations == twin.iterations == iterations + 1
            if use_dict:
                call, args = opt.update, {"params": dict(enumerate(params)), "grads": dict(enumerate(grads))}
            else:
                call, args = opt.apply, {"params": params, "grads": grads}
            outcome = check(call, args, names={"params", "grads"} | set(inspect.signature(cls).parameters),
                            compare=compare, name=f"{cls_name}.{call.__name__}")
            if outcome is not None:
                assert opt.iterations == iterations, "a refused step counted"
                if state is not None:
                    after = opt.get_state()["slots"]
                    assert [a.tobytes() for a, _ in snapshot(after).values()] == \
                        [a.tobytes() for a, _ in snapshot(state).values()], "a refused step wrote state"
                return
