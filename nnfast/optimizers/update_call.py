"""The update call an optimizer makes each step, with its constant arguments bound once (bind), or
checked once natively (prepare)."""
import inspect


def bind(function, hyperparameters, takes_step):
    """``call(params, grads, state, step, learning_rate)``: the call
    ``function(params, grads, *state, step=step, learning_rate=learning_rate, **hyperparameters)``,
    without `step` unless `takes_step`.

    `function` is an update function of nnfast.ops or of another ops module (nnfast.reference, a
    model's backend). An nnfast.ops one carries its native function as ``function.native``, which
    takes the same parameters positionally in signature order; the call then goes there, as ops
    itself passes them. Expanding the keyword arguments again each step cost about 0.4 us, against
    an SGD step of 1e5 floats of about 4 us on 2 threads. A TypeError from the native function
    (another library's arrays, which only `function` converts) sends the call through `function`,
    which converts them or raises; a refused call has modified nothing, so trying twice is safe."""
    keyword_call = _keyword_call(function, hyperparameters, takes_step)
    native = getattr(function, "native", None)
    constants = None if native is None else _positional_constants(function, hyperparameters, takes_step)
    if constants is None:
        return keyword_call

    def call(params, grads, state, step, learning_rate):
        try:
            if takes_step:
                native(params, grads, *state, step, learning_rate, *constants)
            else:
                native(params, grads, *state, learning_rate, *constants)
            return
        except TypeError:  # retried below, so that the error `function` raises stands alone
            pass
        keyword_call(params, grads, state, step, learning_rate)
    return call


def prepare(ops, kernel, hyperparameters, state, learning_rate):
    """``call(params, grads, step)``: ``ops.prepare_update``'s call (nnfast.ops) of the update
    function named `kernel` with its constants, state and a constant learning rate checked once,
    which Optimizer.apply makes from its second step on (0.2-0.3 us a step where the bound call
    costs 0.6-0.8, against an SGD step of 1e5 floats of about 6 us on 2 threads); False if it
    refuses them (the same ones an update call has just accepted: not expected, but a step that
    succeeded must not raise afterwards)."""
    try:
        return ops.prepare_update(kernel, hyperparameters, state, learning_rate)
    except (TypeError, ValueError):
        return False


def _positional_constants(function, hyperparameters, takes_step):
    """The values of `function`'s keyword-only parameters after step and learning_rate, in
    signature order (a default where `hyperparameters` has none); None when its signature is not
    (step,) learning_rate, then those, or `hyperparameters` does not fit it (the keyword call then
    raises what a direct call would)."""
    try:
        keywords = [p for p in inspect.signature(function).parameters.values() if p.kind is p.KEYWORD_ONLY]
    except (TypeError, ValueError):
        return None
    leading = ("step", "learning_rate") if takes_step else ("learning_rate",)
    rest = keywords[len(leading):]
    if (tuple(p.name for p in keywords[:len(leading)]) != leading
            or not set(hyperparameters) <= {p.name for p in rest}
            or any(p.default is p.empty and p.name not in hyperparameters for p in rest)):
        return None
    return tuple(hyperparameters.get(p.name, p.default) for p in rest)


def _keyword_call(function, hyperparameters, takes_step):
    """The call with keyword arguments, as ``bind`` describes it."""
    if takes_step:
        return lambda params, grads, state, step, learning_rate: function(
            params, grads, *state, step=step, learning_rate=learning_rate, **hyperparameters)
    return lambda params, grads, state, step, learning_rate: function(
        params, grads, *state, learning_rate=learning_rate, **hyperparameters)
