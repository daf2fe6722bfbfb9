"""Inputs are never mutated: not the forward input, not the targets, not grad_output, not param.grad.

``MODULES`` and ``LOSSES`` hold one case for every Module class in ``scratch.nn.__all__`` (a test fails
when one is missing); ``test_stability.py`` reuses them for its float32 checks. In-place activations and
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
from parity_tests.helpers import DTYPES
from scratch import nn, optim
from torch_ref.arrays import leaves, random_like, tree_map
from torch_ref.checks.activation import inplace_parity

ABSTRACT = {"Module", "RNNBase",  # no forward of their own, as in torch: nothing to run
            "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"}


def normal(rng, dtype, *shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def probs(rng, dtype, *shape):
    return rng.uniform(0.02, 0.98, shape).astype(dtype)


def log_probs(rng, dtype, *shape):
    p = rng.uniform(0.02, 1, shape)
    return np.log(p / p.sum(axis=-1, keepdims=True)).astype(dtype)


def signs(rng, dtype, *shape):
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(dtype)


def _act(module, scale=3.0):
    return lambda d, r: (module(), (normal(r, d, 6, 8, scale=scale),))


# name: make(dtype, rng) -> (module, inputs); inputs is a tuple, possibly nested (an LSTM's (x, (h_0, c_0)))
MODULES = {
    "CELU": _act(lambda: nn.CELU(alpha=0.7)), "ELU": _act(nn.ELU), "GELU": _act(nn.GELU),
    "Hardtanh": _act(nn.Hardtanh, 1.5), "LeakyReLU": _act(nn.LeakyReLU), "LogSoftmax": _act(lambda: nn.LogSoftmax(1)),
    "Mish": _act(nn.Mish), "ReLU": _act(nn.ReLU), "ReLU6": _act(nn.ReLU6, 5.0), "SELU": _act(nn.SELU),
    "SiLU": _act(nn.SiLU), "Sigmoid": _act(nn.Sigmoid), "Softmax": _act(lambda: nn.Softmax(1)),
    "Softplus": _act(nn.Softplus), "Softsign": _act(nn.Softsign), "Tanh": _act(nn.Tanh), "Identity": _act(nn.Identity),
    "PReLU": lambda d, r: (nn.PReLU(3, dtype=d), (normal(r, d, 4, 3, 5),)),
    "Sequential": lambda d, r: (
        nn.Sequential(nn.Linear(5, 4, dtype=d, rng=r), nn.Tanh(), nn.Linear(4, 3, dtype=d, rng=r)),
        (normal(r, d, 6, 5),)),
    "Conv1d": lambda d, r: (nn.Conv1d(3, 4, 3, padding=1, dtype=d, rng=r), (normal(r, d, 2, 3, 7),)),
    "Conv2d": lambda d, r: (nn.Conv2d(3, 4, 3, stride=2, dtype=d, rng=r), (normal(r, d, 2, 3, 7, 7),)),
    "ConvTranspose2d": lambda d, r: (nn.ConvTranspose2d(3, 2, 3, stride=2, dtype=d, rng=r),
                                     (normal(r, d, 2, 3, 4, 4),)),
    "Dropout": lambda d, r: (nn.Dropout(0.3, rng=r), (normal(r, d, 6, 8),)),
    "Dropout2d": lambda d, r: (nn.Dropout2d(0.3, rng=r), (normal(r, d, 2, 6, 3, 3),)),
    "Flatten": lambda d, r: (nn.Flatten(), (normal(r, d, 2, 3, 4),)),
    "Unflatten": lambda d, r: (nn.Unflatten(1, (3, 4)), (normal(r, d, 2, 12),)),
    "Linear": lambda d, r: (nn.Linear(5, 4, dtype=d, rng=r), (normal(r, d, 6, 5),)),
    "BatchNorm1d": lambda d, r: (nn.BatchNorm1d(4, dtype=d), (normal(r, d, 6, 4),)),
    "BatchNorm2d": lambda d, r: (nn.BatchNorm2d(3, dtype=d), (normal(r, d, 2, 3, 4, 4),)),
    "GroupNorm": lambda d, r: (nn.GroupNorm(2, 4, dtype=d), (normal(r, d, 3, 4, 5),)),
    "LayerNorm": lambda d, r: (nn.LayerNorm(6, dtype=d), (normal(r, d, 4, 6),)),
    "AdaptiveAvgPool2d": lambda d, r: (nn.AdaptiveAvgPool2d((2, 3)), (normal(r, d, 2, 3, 5, 7),)),
    "AvgPool2d": lambda d, r: (nn.AvgPool2d(2), (normal(r, d, 2, 3, 6, 6),)),
    "MaxPool1d": lambda d, r: (nn.MaxPool1d(2), (normal(r, d, 2, 3, 8),)),
    "MaxPool2d": lambda d, r: (nn.MaxPool2d(2), (normal(r, d, 2, 3, 6, 6),)),
    "RNN": lambda d, r: (nn.RNN(3, 4, dtype=d, rng=r), (normal(r, d, 5, 2, 3), normal(r, d, 1, 2, 4))),
    "GRU": lambda d, r: (nn.GRU(3, 4, dtype=d, rng=r), (normal(r, d, 5, 2, 3), normal(r, d, 1, 2, 4))),
    "LSTM": lambda d, r: (nn.LSTM(3, 4, dtype=d, rng=r),
                          (normal(r, d, 5, 2, 3), (normal(r, d, 1, 2, 4), normal(r, d, 1, 2, 4)))),
    "Embedding": lambda d, r: (nn.Embedding(7, 3, dtype=d, rng=r), (r.integers(0, 7, (4, 5)),)),
    "RMSNorm": lambda d, r: (nn.RMSNorm(6, dtype=d), (normal(r, d, 4, 6),)),
    "NonDynamicallyQuantizableLinear": lambda d, r: (nn.NonDynamicallyQuantizableLinear(5, 4, dtype=d, rng=r),
                                                     (normal(r, d, 6, 5),)),
    "MultiheadAttention": lambda d, r: (nn.MultiheadAttention(8, 2, dropout=0.2, add_bias_kv=True, dtype=d, rng=r),
                                        (normal(r, d, 5, 3, 8), normal(r, d, 4, 3, 8), normal(r, d, 4, 3, 8))),
    "TransformerEncoderLayer": lambda d, r: (nn.TransformerEncoderLayer(8, 2, 16, dtype=d, rng=r),
                                             (normal(r, d, 5, 3, 8),)),
    "TransformerDecoderLayer": lambda d, r: (nn.TransformerDecoderLayer(8, 2, 16, norm_first=True, dtype=d, rng=r),
                                             (normal(r, d, 5, 3, 8), normal(r, d, 4, 3, 8))),
    "TransformerEncoder": lambda d, r: (nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dtype=d, rng=r), 2,
                                                              enable_nested_tensor=False), (normal(r, d, 5, 3, 8),)),
    "TransformerDecoder": lambda d, r: (nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dtype=d, rng=r), 2,
                                                              nn.LayerNorm(8, dtype=d)),
                                        (normal(r, d, 5, 3, 8), normal(r, d, 4, 3, 8))),
    "Transformer": lambda d, r: (nn.Transformer(8, 2, 1, 1, 16, batch_first=True, dtype=d, rng=r),
                                 (normal(r, d, 3, 5, 8), normal(r, d, 3, 4, 8))),
}

# name: make(dtype, rng, reduction) -> (criterion, inputs, target)
LOSSES = {
    "BCELoss": lambda d, r, red: (nn.BCELoss(reduction=red), (probs(r, d, 6, 4),), probs(r, d, 6, 4)),
    "BCEWithLogitsLoss": lambda d, r, red: (nn.BCEWithLogitsLoss(pos_weight=probs(r, d, 4) + 0.5, reduction=red),
                                            (normal(r, d, 6, 4),), probs(r, d, 6, 4)),
    "CrossEntropyLoss": lambda d, r, red: (nn.CrossEntropyLoss(label_smoothing=0.1, reduction=red),
                                           (normal(r, d, 6, 4),), r.integers(0, 4, 6)),
    "HuberLoss": lambda d, r, red: (nn.HuberLoss(reduction=red), (normal(r, d, 6, 4),), normal(r, d, 6, 4)),
    "KLDivLoss": lambda d, r, red: (nn.KLDivLoss(reduction=red), (log_probs(r, d, 6, 4),), probs(r, d, 6, 4)),
    "L1Loss": lambda d, r, red: (nn.L1Loss(reduction=red), (normal(r, d, 6, 4),), normal(r, d, 6, 4)),
    "MSELoss": lambda d, r, red: (nn.MSELoss(reduction=red), (normal(r, d, 6, 4),), normal(r, d, 6, 4)),
    "NLLLoss": lambda d, r, red: (nn.NLLLoss(reduction=red), (log_probs(r, d, 6, 4),), r.integers(0, 4, 6)),
    "SmoothL1Loss": lambda d, r, red: (nn.SmoothL1Loss(reduction=red), (normal(r, d, 6, 4),), normal(r, d, 6, 4)),
    "CosineEmbeddingLoss": lambda d, r, red: (nn.CosineEmbeddingLoss(margin=0.2, reduction=red),
                                              (normal(r, d, 6, 4), normal(r, d, 6, 4)), signs(r, np.int64, 6)),
    "HingeEmbeddingLoss": lambda d, r, red: (nn.HingeEmbeddingLoss(reduction=red), (normal(r, d, 6, 4),),
                                             signs(r, d, 6, 4)),
    "MultiMarginLoss": lambda d, r, red: (nn.MultiMarginLoss(reduction=red), (normal(r, d, 6, 4),),
                                          r.integers(0, 4, 6)),
    "SoftMarginLoss": lambda d, r, red: (nn.SoftMarginLoss(reduction=red), (normal(r, d, 6, 4),), signs(r, d, 6, 4)),
}

INPLACE = {  # the modules with an ``inplace`` option, built with it on
    "ReLU": lambda: nn.ReLU(inplace=True), "LeakyReLU": lambda: nn.LeakyReLU(0.2, inplace=True),
    "ELU": lambda: nn.ELU(0.7, inplace=True), "SELU": lambda: nn.SELU(inplace=True),
    "CELU": lambda: nn.CELU(0.3, inplace=True), "SiLU": lambda: nn.SiLU(inplace=True),
    "Mish": lambda: nn.Mish(inplace=True), "Hardtanh": lambda: nn.Hardtanh(-0.3, 2.0, inplace=True),
    "ReLU6": lambda: nn.ReLU6(inplace=True),
}


def module_classes() -> set[str]:
    """Every Module subclass that ``scratch.nn`` exports."""
    exported = {name: getattr(nn, name) for name in nn.__all__}
    return {name for name, obj in exported.items() if isinstance(obj, type) and issubclass(obj, nn.Module)}


def snapshot(tree):
    return tree_map(np.copy, tree)


def assert_unchanged(tree, before, what):
    for i, (now, then) in enumerate(zip(leaves(tree), leaves(before), strict=True)):
        assert now.dtype == then.dtype and np.array_equal(now, then, equal_nan=True), f"{what}[{i}] was modified"


def test_every_module_class_has_a_case():
    missing = module_classes() - set(MODULES) - set(LOSSES) - ABSTRACT
    assert not missing, f"no no-mutation case for {sorted(missing)}"
    assert not (set(MODULES) | set(LOSSES)) - module_classes(), "a case names no exported module"
    with_inplace = {name for name in module_classes() if "inplace" in inspect.signature(getattr(nn, name)).parameters}
    assert with_inplace == set(INPLACE) | {"Dropout", "Dropout2d"}, "an inplace option without an in-place test"


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
          if name not in {"RNN", "GRU", "LSTM", "Embedding", "MultiheadAttention", "TransformerDecoderLayer",
                          "TransformerDecoder", "Transformer"}}
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
