"""Bilinear beyond the catalog: finite differences, torch's initialization bound, state_dict and repr, bad inputs.
(Linear and Identity: the catalog's cases, test_catalog.py.)"""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref.testing import assert_gradcheck, build, catalog_cases

SMALL = [c for c in catalog_cases("Bilinear", kind="module") if c.name != "Bilinear(20,30,16)"]  # 2 runs per value


@pytest.mark.parametrize("case", SMALL, ids=lambda c: c.name)
def test_bilinear_matches_finite_differences(case):
    module, inputs = build(case, np.float64)
    assert_gradcheck(module, *inputs)


def test_bilinear_initialization_and_state_dict_follow_torch():
    module, twin = nn.Bilinear(9, 4, 300, rng=np.random.default_rng(0)), torch.nn.Bilinear(9, 4, 300)
    assert repr(module) == repr(twin)
    assert {k: v.shape for k, v in module.state_dict().items()} == {k: tuple(v.shape) for k, v in
                                                                     twin.state_dict().items()}
    bound = 1 / np.sqrt(9)  # U(-1/sqrt(in1_features), 1/sqrt(in1_features)) for both
    for param in (module.weight.data, module.bias.data):
        assert param.dtype == np.float32 and np.abs(param).max() <= bound and np.abs(param).max() > 0.9 * bound
    assert list(nn.Bilinear(2, 3, 4, bias=False).state_dict()) == ["weight"]


def test_bilinear_bad_inputs_name_the_module():
    module = nn.Bilinear(2, 3, 4)
    with pytest.raises(ValueError, match=r"Bilinear: expected inputs of shapes \(\*, 2\) and \(\*, 3\)"):
        module(np.ones((5, 2), np.float32), np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"Bilinear: expected inputs of shapes"):
        module(np.ones((5, 3), np.float32), np.ones((5, 3), np.float32))
    with pytest.raises(TypeError, match="Bilinear: expected input of dtype float32"):
        module(np.ones((5, 2)), np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"Bilinear: in1_features must be > 0, but got \(in1_features=0\)"):
        nn.Bilinear(0, 3, 4)


def test_requires_input_grad_false_skips_dx_and_keeps_the_parameter_gradients_bit_for_bit():
    """Sequential.requires_input_grad_(False) reaches its first Linear, whose backward then returns None
    without the dX product; every parameter gradient is the same bits as with the default, and the default
    is back after requires_input_grad_(True)."""
    rng = np.random.default_rng(0)
    x, grad = rng.standard_normal((4, 6), dtype=np.float32), rng.standard_normal((4, 3), dtype=np.float32)
    model = nn.Sequential(nn.Linear(6, 5, rng=rng), nn.ReLU(), nn.Linear(5, 3, rng=rng))
    assert model.requires_input_grad and model[0].requires_input_grad
    model(x)
    dx = model.backward(grad)
    expected = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    assert model.requires_input_grad_(False) is model and not model[0].requires_input_grad
    assert model[2].requires_input_grad  # only the first child's input is the model's
    model(x)
    assert model.backward(grad) is None
    for param, want in zip(model.parameters(), expected):
        np.testing.assert_array_equal(param.grad, want)
    model.requires_input_grad_(True)
    model.zero_grad()
    model(x)
    np.testing.assert_array_equal(model.backward(grad), dx)
