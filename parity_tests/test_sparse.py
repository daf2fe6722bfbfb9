"""Embedding and EmbeddingBag (their parity with torch on the catalog's cases: test_catalog.py): padding_idx,
max_norm, from_pretrained, init, state_dict and repr, errors, and finite differences of the weight gradient;
EmbeddingBag's max ties and nans, torch's scale_grad_by_freq quirk, empty bags, per-sample weights."""

import re

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref.catalog.data import classes
from torch_ref.convert import from_torch, to_torch
from torch_ref.testing import DTYPES, assert_close, assert_gradcheck, build, catalog_cases
from torch_ref.tolerance import rtol


def emb(d, *args, **kwargs):
    return nn.Embedding(*args, dtype=d, rng=np.random.default_rng(1), **kwargs)


def run_both(module, x, seed=3):
    """Forward (equal outputs) and backward in both engines with one random upstream gradient."""
    twin = to_torch(module)
    out = module(x)
    grad = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    assert module.backward(grad) is None
    theirs = twin(torch.tensor(x))
    if theirs.requires_grad:  # not for a frozen weight
        theirs.backward(torch.tensor(grad))
    assert_rows_close("output", out, theirs)
    return twin, out


def assert_rows_close(quantity, ours, theirs):
    """Within the tolerance policy's bound for a reduction as long as a row (max_norm's row norms)."""
    assert_close(ours, theirs, rtol(ours.dtype, ours.shape[-1]), quantity)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [4, -6])
def test_padding_row_starts_at_zero_and_gets_exactly_zero_gradient(padding_idx, dtype):
    module = emb(dtype, 10, 5, padding_idx=padding_idx, scale_grad_by_freq=True)
    assert module.padding_idx == 4 and not module.weight.data[4].any()
    x = classes(np.random.default_rng(0), 6, 7, n=10)  # 42 draws of 10: repeats are certain
    x[0, :3] = 4  # the padding index is looked up
    twin, _ = run_both(module, x)
    assert not module.weight.grad[4].any() and not twin.weight.grad[4].any()
    assert module.weight.grad[x[0, 3]].any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_norm_renormalizes_the_looked_up_rows_in_place_as_torch(dtype):
    module = emb(dtype, 10, 6, max_norm=1.2)
    before = module.weight.data.copy()
    x = classes(np.random.default_rng(0), 3, 2, n=5)
    twin, _ = run_both(module, x)
    assert_rows_close("weight", module.weight.data, twin.weight)
    norms = np.linalg.norm(module.weight.data[np.unique(x)], axis=1)
    assert np.all(norms <= 1.2 * (1 + 1e-6)) and np.any(norms > 1.1)
    untouched = np.setdiff1d(np.arange(10), x)
    np.testing.assert_array_equal(module.weight.data[untouched], before[untouched])


def test_from_pretrained_is_frozen_by_default_as_torch():
    weights = np.random.default_rng(2).standard_normal((7, 3))
    module = nn.Embedding.from_pretrained(weights)
    assert not module.weight.requires_grad and module.padding_idx is None
    x = classes(np.random.default_rng(0), 4, n=7)
    twin, out = run_both(module, x)
    assert module.weight.grad is None and twin.weight.grad is None
    np.testing.assert_array_equal(out, weights[x])
    assert out.dtype == np.float64
    with pytest.raises(ValueError, match=r"from_pretrained: embeddings must be 2-dimensional, got shape \(7,\)"):
        nn.Embedding.from_pretrained(np.ones(7))


def test_init_state_dict_repr_and_conversion():
    module = nn.Embedding(2000, 50, padding_idx=-1, max_norm=3.0, norm_type=1.0, scale_grad_by_freq=True,
                          rng=np.random.default_rng(4))
    theirs = torch.nn.Embedding(2000, 50, padding_idx=-1, max_norm=3.0, norm_type=1.0, scale_grad_by_freq=True)
    assert module.state_dict().keys() == theirs.state_dict().keys() and repr(module) == repr(theirs)
    rows = module.weight.data[:-1]
    assert module.weight.dtype == np.float32 and not module.weight.data[-1].any()
    assert abs(rows.mean()) < 5 / np.sqrt(rows.size) and abs(rows.std() - 1) < 5 / np.sqrt(rows.size)
    back = from_torch(theirs)
    assert (back.padding_idx, back.max_norm, back.norm_type, back.scale_grad_by_freq) == (1999, 3.0, 1.0, True)
    np.testing.assert_array_equal(back.weight.data, theirs.weight.detach().numpy())


def test_same_rng_same_weights():
    a = nn.Embedding(5, 4, rng=np.random.default_rng(8))
    b = nn.Embedding(5, 4, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


@pytest.mark.parametrize("bad", [np.array([1.0]), np.array([True])], ids=["float", "bool"])
def test_non_integer_indices_are_a_type_error(bad):
    with pytest.raises(TypeError, match=f"Embedding: expected integer indices .*got dtype {bad.dtype}"):
        nn.Embedding(10, 3)(bad)
    with pytest.raises(RuntimeError, match="indices"):  # torch rejects them too
        torch.nn.Embedding(10, 3)(torch.tensor(bad))


@pytest.mark.parametrize("bad", [10, -1, 25])
def test_out_of_range_index_is_an_index_error_naming_it(bad):
    x = np.array([[0, 3], [bad, 2]])
    with pytest.raises(IndexError, match=rf"Embedding: index {bad} is out of range for num_embeddings=10"):
        nn.Embedding(10, 3)(x)
    with pytest.raises(IndexError):
        torch.nn.Embedding(10, 3)(torch.tensor(x))


@pytest.mark.parametrize("padding_idx", [10, -11])
def test_bad_padding_idx_and_weight_shape_raise(padding_idx):
    with pytest.raises(ValueError, match=re.escape(f"padding_idx < 10, got {padding_idx}")):
        nn.Embedding(10, 3, padding_idx=padding_idx)
    with pytest.raises(AssertionError):  # torch's error type; scratch raises ValueError for bad values
        torch.nn.Embedding(10, 3, padding_idx=padding_idx)
    with pytest.raises(ValueError, match=r"shape of weight \(3, 10\) does not match"):
        nn.Embedding(10, 3, _weight=np.ones((3, 10)))


@pytest.mark.parametrize("case", ["Embedding(1-D indices)", "Embedding(repeated indices)", "Embedding(0-D index)",
                                  "Embedding(3-D int32 indices)", "large-sparse"])
def test_finite_differences_of_the_weight_gradient(case):
    """The catalog's plain lookups, and 21 lookups into 60 rows: most rows get no gradient."""
    if case == "large-sparse":
        module, inputs = emb(np.float64, 60, 5), [classes(np.random.default_rng(0), 7, 3, n=60)]
    else:
        module, inputs = build(case)
    assert_gradcheck(module, *inputs)  # the indices are not perturbed: only the weight is checked


def test_finite_differences_with_padding_idx_not_looked_up():
    """The padding row's gradient is 0 by definition (torch's rule, not the derivative), so finite
    differences agree only where the padding row is not looked up: there both are exactly 0."""
    module = emb(np.float64, 10, 4, padding_idx=7)
    x = classes(np.random.default_rng(0), 6, 5, n=7)
    assert_gradcheck(module, x)  # the indices are not perturbed: only the weight is checked


# ------------------------------------------------------------------------------------------ EmbeddingBag
BAG_CASES = [c for c in catalog_cases("EmbeddingBag", kind="module") if "padding_idx" not in c.name
             and "max_norm" not in c.name and "scale_grad_by_freq" not in c.name]


@pytest.mark.parametrize("case", BAG_CASES, ids=lambda c: c.name)
def test_embedding_bag_finite_differences(case):
    """The weight's gradient (and the per-sample weights'); max_norm (no gradient), padding_idx and
    scale_grad_by_freq (torch's rules, not derivatives) are compared with torch only (test_catalog.py)."""
    module, inputs = build(case, np.float64)
    assert_gradcheck(module, *inputs)


def bag_both(module, *inputs, seed=3):
    """Output and weight gradient of both engines, for one random upstream gradient."""
    twin = to_torch(module)
    out = module(*inputs)
    grad = np.random.default_rng(seed).standard_normal(out.shape)
    module.backward(grad)
    theirs = twin(*(torch.tensor(x) for x in inputs))
    theirs.backward(torch.tensor(grad))
    return out, theirs.detach().numpy(), module.weight.grad, twin.weight.grad.numpy()


def test_embedding_bag_max_takes_the_first_maximum_and_a_leading_nan_as_torch():
    weight = np.array([[1.0, 2.0], [1.0, 3.0], [0.0, 3.0], [np.nan, 0.0], [2.0, np.nan]])
    for order in ([0, 1, 2], [3, 1, 2], [4, 0, 1], [2, 1, 0]):
        bag = nn.EmbeddingBag.from_pretrained(weight, freeze=False, mode="max")
        out, theirs, grad, their_grad = bag_both(bag, np.array(order), np.array([0]))
        np.testing.assert_array_equal(out, theirs)
        np.testing.assert_array_equal(grad, their_grad)


def test_embedding_bag_scale_grad_by_freq_matches_torch_quirk():
    """torch scales the g-th distinct index by the count of the index at position g of the sorted input:
    for [1, 2, 4, 5, 4, 3, 2, 0], row 4 (twice) is not scaled and rows 3 and 5 (once) are halved."""
    x = np.array([1, 2, 4, 5, 4, 3, 2, 0]).reshape(4, 2)
    for mode, padding_idx in (("sum", None), ("mean", 2), ("sum", 0)):
        bag = nn.EmbeddingBag(6, 2, mode=mode, scale_grad_by_freq=True, padding_idx=padding_idx, dtype=np.float64)
        _, _, grad, their_grad = bag_both(bag, x)
        assert_close(grad, their_grad, rtol(np.float64, 8), f"{mode} padding_idx={padding_idx}")
    bag = nn.EmbeddingBag(6, 1, mode="sum", scale_grad_by_freq=True, dtype=np.float64)
    bag(x)
    assert bag.backward(np.ones((4, 1))) is None
    np.testing.assert_allclose(bag.weight.grad[:, 0], [1, 1, 1, 0.5, 2, 0.5])


def test_embedding_bag_empty_bags_and_padding_give_zeros():
    bag = nn.EmbeddingBag(5, 3, mode="max", padding_idx=4, dtype=np.float64)
    out = bag(np.array([4, 4, 1, 2]), np.array([0, 2, 2]))
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(out[1], 0.0)
    np.testing.assert_array_equal(out[2], np.maximum(bag.weight.data[1], bag.weight.data[2]))


def test_embedding_bag_per_sample_weights_gradient_and_2d_input():
    rng = np.random.default_rng(0)
    bag = nn.EmbeddingBag(7, 3, mode="sum", dtype=np.float64, rng=rng)
    x, psw = classes(rng, 3, 4, n=7), rng.standard_normal((3, 4))
    twin = to_torch(bag)
    out = bag(x, None, psw)
    grad = rng.standard_normal(out.shape)
    none, no_offsets, grad_psw = bag.backward(grad)
    assert none is None and no_offsets is None and grad_psw.shape == psw.shape
    t_psw = torch.tensor(psw, requires_grad=True)
    theirs = twin(torch.tensor(x), per_sample_weights=t_psw)
    theirs.backward(torch.tensor(grad))
    assert_close(out, theirs.detach().numpy(), rtol(np.float64, 4), "output")
    assert_close(grad_psw, t_psw.grad.numpy(), rtol(np.float64, 3), "per_sample_weights.grad")
    assert_close(bag.weight.grad, twin.weight.grad.numpy(), rtol(np.float64, 12), "weight.grad")


def test_embedding_bag_repr_state_dict_and_from_pretrained_match_torch():
    options = {"max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True, "mode": "sum", "padding_idx": -2,
               "include_last_offset": True}
    ours, theirs = nn.EmbeddingBag(6, 2, **options), torch.nn.EmbeddingBag(6, 2, **options)
    assert repr(ours) == repr(theirs) and repr(nn.EmbeddingBag(3, 4)) == repr(torch.nn.EmbeddingBag(3, 4))
    assert list(ours.state_dict()) == list(theirs.state_dict()) and ours.padding_idx == theirs.padding_idx == 4
    np.testing.assert_array_equal(ours.weight.data[4], 0.0)
    weight = np.arange(6.0).reshape(3, 2)
    frozen = nn.EmbeddingBag.from_pretrained(weight, mode="max")
    assert not frozen.weight.requires_grad and frozen.mode == "max"
    back = from_torch(to_torch(frozen))
    np.testing.assert_array_equal(back.weight.data, weight)
    assert (back.mode, back.weight.requires_grad) == ("max", False)


BAG_ERRORS = [
    ({}, (np.array([1, 2, 3]), np.array([1, 2])), ValueError, "offsets\\[0\\] has to be 0"),
    ({}, (np.array([1, 2, 3]), np.array([0, 4])), ValueError, "can not be greater than input's length"),
    ({}, (np.array([1, 2, 3]), np.array([0, 2, 1])), ValueError, "non-decreasing"),
    ({"include_last_offset": True}, (np.array([1, 2, 3]), np.array([0, 2])), ValueError, "must be the input's length"),
    ({"include_last_offset": True}, (np.array([1, 2, 3]), np.array([0])), ValueError, "at least one bag"),
    ({}, (np.array([1, 2, 3]), np.array([], dtype=np.int64)), ValueError, "at least one bag"),
    ({}, (np.array([1, 2, 3]),), ValueError, "offsets has to be a 1D"),
    ({}, (np.ones((2, 3), dtype=np.int64), np.array([0, 1])), ValueError, "offsets has to be None"),
    ({}, (np.ones((2, 2, 2), dtype=np.int64),), ValueError, "1D or 2D"),
    ({}, (np.ones((2, 0), dtype=np.int64),), ValueError, "at least one index per bag"),
    ({}, (np.array([1.0, 2.0]), np.array([0])), TypeError, "integer indices"),
    ({}, (np.array([1, 2]), np.array([0.0])), TypeError, "offsets must be integers"),
    ({}, (np.array([1, 9]), np.array([0])), IndexError, "out of range"),
    ({"mode": "median"}, (np.array([1, 2]), np.array([0])), ValueError, "mode has to be one of"),
    ({"mode": "max", "scale_grad_by_freq": True}, (np.array([1, 2]), np.array([0])), ValueError, "max mode does not"),
    ({"mode": "mean"}, (np.array([1, 2]), np.array([0]), np.ones(2)), ValueError, "only supported for mode='sum'"),
    ({"mode": "sum"}, (np.array([1, 2]), np.array([0]), np.ones(3)), ValueError, "same shape as the input"),
]


@pytest.mark.parametrize(("options", "inputs", "error", "message"), BAG_ERRORS, ids=lambda v: str(v)[:40])
def test_embedding_bag_errors_name_it(options, inputs, error, message):
    with pytest.raises(error, match=f"EmbeddingBag.*{message}"):
        nn.EmbeddingBag(6, 2, dtype=np.float64, **options)(*inputs)


def test_embedding_bag_of_zero_width_rows_is_empty():
    """embedding_dim=0: an empty (B, 0) output and gradient (torch's float64 kernel agrees; its float32 sum and
    mean kernel fails an internal check, so the fuzz recipe leaves 0 out)."""
    bag = nn.EmbeddingBag(4, 0, mode="sum", dtype=np.float64)
    out, theirs, grad, their_grad = bag_both(bag, np.array([[0, 1, 3], [2, 2, 1]]))
    assert out.shape == theirs.shape == (2, 0) and grad.shape == their_grad.shape == (4, 0)
