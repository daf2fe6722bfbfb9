"""The im2col workspace a convolution module keeps between calls (scratch/nn/modules/conv.py): reused only once
the backward that needed it is done, so results are those of a fresh module bit for bit, and left out of copies."""

import copy
import pickle

import numpy as np
import pytest

from scratch import nn
from scratch.nn import functional as F

CONFIGS = [
    (nn.Conv1d, (3, 4, 3), {"padding": 1}, (2, 3, 11)),
    (nn.Conv2d, (4, 6, 3), {"padding": 1, "groups": 2}, (2, 4, 7, 9)),
    (nn.Conv2d, (3, 5, (3, 2)), {"stride": 2, "dilation": (1, 2), "padding": (2, 1)}, (3, 3, 9, 8)),
    (nn.Conv2d, (3, 4, 3), {"padding": 2, "padding_mode": "reflect"}, (2, 3, 6, 7)),
    (nn.Conv3d, (2, 3, 3), {"padding": "same"}, (2, 2, 5, 4, 6)),
]


def _step(module, x, grad):
    """forward and backward; returns the output, dL/dx and this step's parameter gradients."""
    module.zero_grad()
    out = module(x)
    grad_input = module.backward(grad)
    return out, grad_input, [p.grad.copy() for p in module.parameters()]


def _data(rng, module, shape):
    x = rng.standard_normal(shape)
    return x, rng.standard_normal(module(x).shape)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0].__name__}{c[2]}")
def test_reused_module_computes_what_a_fresh_one_does_bit_for_bit(config):
    cls, args, kwargs, shape = config
    rng = np.random.default_rng(0)
    module = cls(*args, **kwargs, dtype=np.float64, rng=rng)
    fresh = copy.deepcopy(module)  # never reused: a new copy for each step below
    for _ in range(3):
        x, grad = _data(rng, fresh, shape)
        ours, theirs = _step(module, x, grad), _step(copy.deepcopy(fresh), x, grad)
        for a, b in zip([ours[0], ours[1], *ours[2]], [theirs[0], theirs[1], *theirs[2]]):
            np.testing.assert_array_equal(a, b)


def test_a_second_forward_before_backward_does_not_overwrite_what_backward_needs():
    rng = np.random.default_rng(1)
    module = nn.Conv2d(3, 4, 3, padding=1, dtype=np.float64, rng=rng)
    fresh = copy.deepcopy(module)
    x1, grad = _data(rng, fresh, (2, 3, 6, 6))
    x2 = rng.standard_normal(x1.shape)
    _step(module, x1, grad)  # leaves a workspace
    module(x1 + 1.0)  # takes the workspace: its cache is alive
    expected = _step(copy.deepcopy(fresh), x2, grad)
    got = _step(module, x2, grad)  # this forward must get a buffer of its own
    for a, b in zip([got[0], got[1], *got[2]], [expected[0], expected[1], *expected[2]]):
        np.testing.assert_array_equal(a, b)


def test_the_buffer_backward_used_up_is_the_next_forwards_im2col_matrix():
    rng = np.random.default_rng(2)
    module = nn.Conv2d(4, 4, 3, padding=1, rng=rng)
    x = rng.standard_normal((2, 4, 8, 8), dtype=np.float32)
    module(x)
    module.backward(np.ones((2, 4, 8, 8), dtype=np.float32))
    workspace = module.__dict__["_workspace"]
    module(x)
    assert "_workspace" not in module.__dict__
    assert np.shares_memory(module._cache[0].cols, workspace)


def test_copies_and_pickles_leave_the_workspace_out():
    module = nn.Conv1d(2, 3, 3)
    x = np.ones((1, 2, 6), dtype=np.float32)
    module(x)
    module.backward(np.ones((1, 3, 4), dtype=np.float32))
    assert "_workspace" in module.__dict__
    for other in (copy.deepcopy(module), pickle.loads(pickle.dumps(module))):
        assert "_workspace" not in other.__dict__
        np.testing.assert_array_equal(other(x), module(x))


def test_functional_backward_leaves_the_cache_as_it_was_unless_told():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    _, cache = F.conv_forward(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    cols, grad = cache.cols.copy(), rng.standard_normal((2, 4, 6, 5))
    first = F.conv_backward(grad, cache)
    np.testing.assert_array_equal(cache.cols, cols)
    second = F.conv_backward(grad, cache, reuse_cols=True)
    for a, b in zip(first[:2], second[:2]):
        np.testing.assert_array_equal(a, b)
