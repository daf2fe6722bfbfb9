"""Inputs are never mutated: not the forward input, not the targets, not grad_output, not param.grad.

``MODULES`` and ``LOSSES`` take every component's first case from the catalog (test_catalog.py fails when a
class has none); ``test_stability.py`` and ``test_determinism.py`` reuse them. In-place activations and
dropouts (``inplace=True``) are the documented exception: torch overwrites its input with the output,
and so must scratch, exactly as torch does.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import scratch.preprocessing
import torch_ref
from scratch import nn, optim
from torch_ref.arrays import leaves, random_like, tree_map
from torch_ref.catalog import first_of_each
from torch_ref.catalog.case import inplace_parity
from torch_ref.catalog.data import normal
from torch_ref.testing import DTYPES, build, catalog_cases


def _loss(subject):
    """make(dtype, rng, reduction) -> (criterion, inputs, target) from the subject's first catalog case
    in that reduction; ``inputs`` is a tuple (two arrays for CosineEmbeddingLoss)."""
    def make(dtype, rng, reduction):
        case = next(case for case in catalog_cases(subject, kind="loss")
                    if case.name.endswith((f"({reduction})", f",{reduction})")))
        criterion, input, target = case.make(dtype, rng)
        return criterion, input if isinstance(input, tuple) else (input,), target
    return make


# name: make(dtype, rng) -> (module, inputs), each component's first catalog case; inputs may nest (LSTM)
MODULES = {name: case.make for name, case in first_of_each("module").items()}
LOSSES = {name: _loss(name) for name in first_of_each("loss")}
# the modules with an ``inplace`` option, built with it on (the catalog's in-place cases)
INPLACE = {name: (lambda case=case: build(case)[0]) for name, case in first_of_each("inplace").items()}


def module_classes() -> set[str]:
    """Every Module subclass that ``scratch.nn`` exports."""
    exported = {name: getattr(nn, name) for name in nn.__all__}
    return {name for name, obj in exported.items() if isinstance(obj, type) and issubclass(obj, nn.Module)}


def snapshot(tree):
    return tree_map(np.copy, tree)


def assert_unchanged(tree, before, what):
    for i, (now, then) in enumerate(zip(leaves(tree), leaves(before), strict=True)):
        assert now.dtype == then.dtype and np.array_equal(now, then, equal_nan=True), f"{what}[{i}] was modified"


def test_every_inplace_option_has_an_inplace_case():
    with_inplace = {name for name in module_classes() if "inplace" in inspect.signature(getattr(nn, name)).parameters}
    dropouts = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"}  # test_dropout
    assert with_inplace == set(INPLACE) | dropouts, "an inplace option without an in-place test"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_mutates_neither_its_input_nor_grad_output(name, dtype):
    rng = np.random.default_rng(0)
    module, inputs = MODULES[name](dtype, rng)
    before = snapshot(inputs)
    out = module(*inputs)
    assert_unchanged(inputs, before, f"{name} forward: input")
    grad_output = tree_map(lambda o: random_like(o, rng), out)
    grad_before = snapshot(grad_output)
    module.backward(*grad_output) if isinstance(out, tuple) else module.backward(grad_output)
    assert_unchanged(inputs, before, f"{name} backward: input")
    assert_unchanged(grad_output, grad_before, f"{name} backward: grad_output")


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_a_loss_mutates_neither_input_nor_target_nor_grad(name, dtype, reduction):
    rng = np.random.default_rng(0)
    criterion, inputs, target = LOSSES[name](dtype, rng, reduction)
    before, target_before = snapshot(inputs), target.copy()
    loss = criterion(*inputs, target)
    assert_unchanged(inputs, before, f"{name} forward: input")
    assert_unchanged(target, target_before, f"{name} forward: target")
    grad = random_like(loss, rng)
    grad_before = grad.copy()
    criterion.backward(grad)
    assert_unchanged(inputs, before, f"{name} backward: input")
    assert_unchanged(target, target_before, f"{name} backward: target")
    assert_unchanged(grad, grad_before, f"{name} backward: grad")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(INPLACE))
def test_an_inplace_activation_overwrites_its_input_exactly_as_torch(name, dtype):
    rng = np.random.default_rng(0)
    x = normal(rng, dtype, 8, 12, scale=3)
    original = x.copy()
    result = inplace_parity(INPLACE[name](), x, rng)  # compares x after the forward with torch's input tensor
    assert result.ok, "\n".join(result.failures())
    assert not np.array_equal(x, original), f"{name}(inplace=True) left its input as it was"


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_an_inplace_activation_does_not_write_into_grad_output(name):
    rng = np.random.default_rng(1)
    module, x = INPLACE[name](), normal(rng, np.float64, 8, 12, scale=3)
    out = module(x)
    assert np.shares_memory(out, x) or np.array_equal(out, x)
    grad_output = random_like(out, rng)
    before = grad_output.copy()
    module.backward(grad_output)
    assert_unchanged(grad_output, before, f"{name}(inplace=True) backward: grad_output")


@pytest.mark.parametrize("cls", [nn.Dropout, nn.Dropout2d])
def test_inplace_dropout_overwrites_its_input_like_torch(cls):
    rng = np.random.default_rng(2)
    x = normal(rng, np.float64, 4, 6, 3, 3)
    original = x.copy()
    out = cls(0.5, inplace=True, rng=rng)(x)
    np.testing.assert_array_equal(x, out)
    assert not np.array_equal(x, original)
    tensor = torch.tensor(original)
    torch_out = getattr(torch.nn, cls.__name__)(0.5, inplace=True)(tensor)
    assert torch.equal(tensor, torch_out) and not torch.equal(tensor, torch.tensor(original))  # torch does the same
    kept = out != 0  # and the kept elements are the input scaled by 1 / (1 - p), as torch's
    np.testing.assert_array_equal(out[kept], original[kept] * 2.0)


OPTIMIZERS = {  # every optimizer with maximize and weight_decay where it has them
    "SGD": dict(lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True), "Adam": dict(weight_decay=0.1, maximize=True),
    "AdamW": dict(maximize=True, amsgrad=True), "RMSprop": dict(weight_decay=0.1, momentum=0.5, centered=True,
                                                                maximize=True),
    "Adagrad": dict(weight_decay=0.1, maximize=True), "Adadelta": dict(weight_decay=0.1, maximize=True),
    "NAdam": dict(weight_decay=0.1, maximize=True), "RAdam": dict(weight_decay=0.1, maximize=True),
    "Adamax": dict(weight_decay=0.1, maximize=True), "Rprop": dict(maximize=True),
    "ASGD": dict(weight_decay=0.1, maximize=True, t0=1), "Adafactor": dict(weight_decay=0.1, maximize=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_optimizer_step_does_not_write_into_the_gradients_it_reads(name):
    rng = np.random.default_rng(3)
    model = nn.Linear(5, 3, dtype=np.float64, rng=rng)
    twin = torch_ref.to_torch(model)
    opt = getattr(optim, name)(model.parameters(), **OPTIMIZERS[name])
    torch_opt = getattr(torch.optim, name)(twin.parameters(), **OPTIMIZERS[name])
    for _ in range(3):
        start = model.weight.data.copy()
        for p, t in zip(model.parameters(), twin.parameters(), strict=True):
            p.grad = rng.standard_normal(p.shape)
            t.grad = torch.tensor(p.grad)
        before = [p.grad.copy() for p in model.parameters()]
        opt.step()
        torch_opt.step()
        for p, t, grad in zip(model.parameters(), twin.parameters(), before, strict=True):
            np.testing.assert_array_equal(p.grad, grad, err_msg=f"{name} wrote into param.grad")
            assert torch.equal(t.grad, torch.tensor(grad))  # torch leaves it too
        assert not np.array_equal(model.weight.data, start)


# An in-place module overwrites its input, which is the output of the module before it. torch notices when
# that module saved its output for backward (Tanh, Sigmoid, Softmax, ...) and raises a RuntimeError
# ("modified by an inplace operation"); scratch must raise too or still give the true gradient, never a
# wrong one silently. The truth is the same chain with the in-place module given a copy: the same arithmetic,
# with nothing overwritten, so the two must be bit-identical.
CHAINED_INPLACE = {**INPLACE, "Dropout": lambda: nn.Dropout(0.5, inplace=True, rng=np.random.default_rng(5)),
                   "Dropout2d": lambda: nn.Dropout2d(0.5, inplace=True, rng=np.random.default_rng(5))}
BEFORE = {name: make for name, make in MODULES.items()
          if name not in {"RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell", "Embedding", "MultiheadAttention",
                          "TransformerDecoderLayer", "TransformerDecoder", "Transformer", "Bilinear",
                          "CosineSimilarity", "PairwiseDistance", "EmbeddingBag", "MaxUnpool1d", "MaxUnpool2d",
                          "MaxUnpool3d", "GaussianNLLLoss", "TripletMarginLoss",
                          "TripletMarginWithDistanceLoss", "CTCLoss",
                          "AdaptiveLogSoftmaxWithLoss"}}  # one float input and one output only
BEFORE.update({f"{name}(inplace)": lambda d, r, name=name: (INPLACE[name](), (normal(r, d, 6, 8, scale=3),))
               for name in INPLACE})


def chain_gradients(before, after, give_a_copy):
    """dL/dx and dL/d(first's parameters) through first -> second(inplace=True), built afresh."""
    first, (x,) = BEFORE[before](np.float64, np.random.default_rng(0))
    second = CHAINED_INPLACE[after]()
    y = first(x)
    out = second(y.copy() if give_a_copy else y)
    grad_output = np.random.default_rng(1).standard_normal(out.shape)
    return [first.backward(second.backward(grad_output))] + [p.grad.copy() for p in first.parameters()]


def torch_refuses(before, after):
    """Whether torch's backward raises for the same chain (an in-place change to a saved tensor)."""
    first, (x,) = BEFORE[before](np.float64, np.random.default_rng(0))
    second = CHAINED_INPLACE[after]()
    second(first(x.copy()).copy())  # a dropout's twin replays the mask of scratch's last forward
    twin = torch_ref.to_torch(nn.Sequential(first, second))
    out = twin(torch.tensor(x, requires_grad=True).clone())
    try:
        out.backward(torch.ones_like(out))
    except RuntimeError as error:
        assert "inplace operation" in str(error)
        return True
    return False


@pytest.mark.filterwarnings("ignore:dropout2d:UserWarning")  # torch's note on a 2-D or 3-D input, in both engines
@pytest.mark.parametrize("after", sorted(CHAINED_INPLACE))
@pytest.mark.parametrize("before", sorted(BEFORE))
def test_an_inplace_module_never_silently_corrupts_the_gradient_of_the_module_before_it(before, after):
    truth = chain_gradients(before, after, give_a_copy=True)
    try:
        actual = chain_gradients(before, after, give_a_copy=False)
    except (RuntimeError, ValueError) as error:  # a clear refusal, where torch refuses too
        assert torch_refuses(before, after), f"{before} -> {after}(inplace=True): torch allows it, scratch: {error}"
        assert before in str(error) or after in str(error), f"the error names neither module: {error}"
        return
    wrong = [i for i, (ours, expected) in enumerate(zip(actual, truth, strict=True))
             if not np.array_equal(ours, expected)]
    assert not wrong, (f"{before} -> {after}(inplace=True): gradients {wrong} silently wrong "
                       f"({'torch refuses this chain' if torch_refuses(before, after) else 'torch gets them right'})")


def test_load_state_dict_copies_and_the_scalers_leave_their_input():
    model = nn.Linear(3, 2)
    state = {"weight": np.ones((2, 3), np.float32), "bias": np.zeros(2, np.float32)}
    model.load_state_dict(state)
    model.weight.data += 1  # torch copies into the parameter too: the source is not a view of it
    np.testing.assert_array_equal(state["weight"], np.ones((2, 3), np.float32))
    x = np.random.default_rng(4).standard_normal((10, 3))
    before = x.copy()
    for scaler in (scratch.preprocessing.StandardScaler(), scratch.preprocessing.MinMaxScaler()):
        y = scaler.fit_transform(x)
        y_before = y.copy()
        scaler.inverse_transform(y)
        np.testing.assert_array_equal(x, before)
        np.testing.assert_array_equal(y, y_before)


def _gradients(module, inputs, change_after_forward, rng):
    """dL/d(inputs) and every parameter gradient, with the floating inputs changed in place (+ 100) between
    forward and backward when ``change_after_forward``."""
    out = module(*inputs)
    if change_after_forward:
        for leaf in leaves(inputs):
            if leaf.dtype.kind == "f":
                leaf += 100
    grad_output = tree_map(lambda o: random_like(o, rng), out)
    grads = module.backward(*grad_output) if isinstance(out, tuple) else module.backward(grad_output)
    return [np.copy(g) for g in leaves(grads)] + [np.copy(p.grad) for p in module.parameters() if p.grad is not None]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_changing_an_input_in_place_after_forward_does_not_change_the_gradients(name):
    """torch raises "modified by an inplace operation"; scratch's backward sees what forward saw (``Module._save``
    keeps a private copy of any input it keeps), so ``x += 100`` after ``y = m(x)`` changes nothing."""
    grads = [_gradients(*MODULES[name](np.float64, np.random.default_rng(0)), change, np.random.default_rng(1))
             for change in (False, True)]
    assert len(grads[0]) == len(grads[1]) > 0
    for clean, changed in zip(*grads, strict=True):
        np.testing.assert_array_equal(changed, clean)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_changing_a_loss_input_in_place_after_forward_does_not_change_its_gradient(name):
    grads = []
    for change in (False, True):
        criterion, inputs, target = LOSSES[name](np.float64, np.random.default_rng(0), "none")
        loss = criterion(*inputs, target)
        if change:
            for x in (*inputs, target):
                if x.dtype.kind == "f":
                    x += 100
        grads.append(leaves(criterion.backward(random_like(loss, np.random.default_rng(1)))))
    for clean, changed in zip(*grads, strict=True):
        np.testing.assert_array_equal(changed, clean)
