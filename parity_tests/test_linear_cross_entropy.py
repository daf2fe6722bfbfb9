"""LinearCrossEntropyLoss beyond its catalog cases: finite differences of the input and the Linear's parameters,
the options torch's chunked path takes (kept, crossing both ways), the state_dict layout, and the arguments and
inputs torch refuses."""

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from torch_ref.testing import assert_gradcheck

T = torch.nn


def _module(**options):
    return nn.LinearCrossEntropyLoss(4, 3, dtype=np.float64, rng=np.random.default_rng(0), **options)


@pytest.mark.parametrize("out_features", [(), (2,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradients_match_finite_differences(reduction, out_features):
    rng = np.random.default_rng(1)
    x, target = rng.standard_normal((5, 4)), rng.integers(0, 3, size=(5, *out_features))
    module = _module(out_features=out_features, bias=True, reduction=reduction, weight=np.array([0.5, 1.0, 2.0]),
                     label_smoothing=0.1)
    assert_gradcheck(module, x, target)


def test_state_dict_is_torchs_flat_linear():
    module = _module(out_features=(2, 5), bias=True, weight=np.ones(3))
    assert {k: v.shape for k, v in module.state_dict().items()} == {
        k: tuple(v.shape) for k, v in T.LinearCrossEntropyLoss(4, 3, out_features=(2, 5), bias=True,
                                                               weight=torch.ones(3)).state_dict().items()}
    assert module.linear.weight.shape == (30, 4) and module.linear.bias.shape == (30,)


def test_options_cross_both_ways_and_do_not_change_the_values():
    options = nn.LinearCrossEntropyOptions(allow_retain_graph=True, batch_chunk_size=2, acc_dtype=np.dtype("float64"))
    module = _module(options=options)
    twin = torch_ref.to_torch(module)
    assert twin.options == T.LinearCrossEntropyOptions(allow_retain_graph=True, batch_chunk_size=2,
                                                       acc_dtype=torch.float64)
    back = torch_ref.from_torch(twin)
    assert back.options == options and isinstance(back, nn.LinearCrossEntropyLoss)
    x, target = np.random.default_rng(2).standard_normal((6, 4)), np.arange(6) % 3
    np.testing.assert_array_equal(module(x, target), _module()(x, target))


def test_repr_is_torchs():
    module = _module(out_features=(2,), bias=True, reduction="sum", ignore_index=1,
                     options=nn.LinearCrossEntropyOptions())
    assert repr(module) == repr(torch_ref.to_torch(module))


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"weight": np.ones(4)}, ValueError, r"weight shape to be \(3,\)"),
    ({"label_smoothing": 1.5}, ValueError, r"label_smoothing to be in range \[0, 1\]"),
    ({"label_smoothing": -0.1}, ValueError, r"label_smoothing to be in range \[0, 1\]"),
    ({"device": "cuda"}, ValueError, "CPU only"),
])
def test_bad_arguments_are_refused(options, error, match):
    with pytest.raises(error, match=f"LinearCrossEntropyLoss: .*{match}"):
        _module(**options)


X = np.random.default_rng(3).standard_normal((5, 4))


@pytest.mark.parametrize(("module_options", "x", "target", "error"), [
    ({}, X, np.zeros((5, 3), dtype=np.int64), TypeError),  # the logits' shape: probabilities, but integers
    ({"ignore_index": 0}, X, np.full((5, 3), 1 / 3), ValueError),  # ignore_index with probabilities
    ({"out_features": (2,)}, X[0], np.array([[0, 1]]), ValueError),  # a K-dimensional loss, unbatched
    ({}, X[:, :3], np.zeros(5, dtype=np.int64), ValueError),  # another in_features
    ({}, X[None], np.zeros((1, 5), dtype=np.int64), ValueError),  # 3-D input
    ({}, X, np.array([0, 1, 2, 3, 0]), IndexError),  # a class out of range
    ({}, X.astype(np.float32), np.zeros(5, dtype=np.int64), TypeError),  # the parameters' dtype only
])
def test_bad_inputs_are_refused_naming_the_module(module_options, x, target, error):
    with pytest.raises(error, match="LinearCrossEntropyLoss"):
        _module(**module_options)(x, target)
    twin = T.LinearCrossEntropyLoss(4, 3, dtype=torch.float64, **module_options)
    with pytest.raises((RuntimeError, IndexError, ValueError)):
        twin(torch.tensor(x), torch.tensor(target))
