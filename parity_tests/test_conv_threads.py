"""The convolutions' im2col copies and col2im adds split by samples among the intra-op threads
(``parallel.parallel_rows`` in scratch/nn/functional/conv.py), and cross-entropy's row passes split so too:
1 and 2 threads give the same outputs and gradients, bit for bit."""

import copy

import numpy as np
import pytest

import scratch
from scratch import nn, parallel
from scratch.nn.functional.loss import classification

CONFIGS = [
    (nn.Conv1d, (3, 4, 3), {"padding": 1}, (5, 3, 11)),
    (nn.Conv2d, (4, 6, 3), {"padding": 1, "groups": 2}, (5, 4, 7, 9)),
    (nn.Conv2d, (4, 6, 3), {"stride": 2, "padding": 1, "groups": 2}, (7, 4, 9, 8)),
    (nn.Conv2d, (3, 5, (3, 2)), {"stride": 2, "dilation": (1, 2), "padding": (2, 1)}, (3, 3, 9, 8)),
    (nn.Conv2d, (3, 4, 3), {"padding": 2, "padding_mode": "reflect"}, (3, 3, 6, 7)),
    (nn.Conv3d, (2, 3, 3), {"stride": (1, 2, 2), "padding": 1}, (5, 2, 5, 4, 6)),
    (nn.ConvTranspose2d, (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, (5, 4, 5, 6)),
    (nn.ConvTranspose1d, (3, 2, 3), {"stride": 1, "padding": 1}, (3, 3, 8)),
]


@pytest.fixture
def threads():
    previous = scratch.get_num_threads()
    yield scratch.set_num_threads
    scratch.set_num_threads(previous)


def _step(module, x, grad, num_threads):
    scratch.set_num_threads(num_threads)
    module = copy.deepcopy(module)
    out = module(x)
    return [out, module.backward(grad), *(p.grad.copy() for p in module.parameters())]


def _assert_bit_identical(config, dtype, threads):
    cls, args, kwargs, shape = config
    rng = np.random.default_rng(0)
    module = cls(*args, **kwargs, dtype=dtype, rng=rng)
    x = rng.standard_normal(shape).astype(dtype)
    grad = rng.standard_normal(module(x).shape).astype(dtype)
    one, two = _step(module, x, grad, 1), _step(module, x, grad, 2)
    for a, b in zip(one, two, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b, strict=True)


def _spy(monkeypatch):
    """Record the (size, grain) of every ``parallel_for`` call, which still runs."""
    calls, original = [], parallel.parallel_for

    def spy(work, size, grain):
        calls.append((size, grain))
        original(work, size, grain)

    monkeypatch.setattr(parallel, "parallel_for", spy)
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0].__name__}{c[2]}")
def test_one_and_two_threads_give_the_same_bits(config, dtype, threads, monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)  # these small arrays are split too
    calls = _spy(monkeypatch)
    _assert_bit_identical(config, dtype, threads)
    assert any(grain < size for size, grain in calls)  # the samples were split into several ranges


def test_a_large_convolution_splits_above_the_threshold(threads, monkeypatch):
    config = (nn.Conv2d, (16, 16, 3), {"stride": 2, "padding": 1}, (9, 16, 40, 40))
    calls = _spy(monkeypatch)
    _assert_bit_identical(config, np.float32, threads)
    assert any(size >= parallel.PARALLEL_MIN and grain < size for size, grain in calls)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_rows_split_give_the_same_bits(reduction, weighted, dtype, threads, monkeypatch):
    """CrossEntropyLoss's row passes (softmax's parts forward, the gradient's scaling backward), split by rows
    (scratch/nn/functional/loss/classification.py), on an odd number of rows."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(classification, "SMALL_ROWS", 1)  # these small inputs take the row passes too
    calls = _spy(monkeypatch)
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((37, 13)) * 4).astype(dtype)
    target = rng.integers(0, 13, 37)
    target[5] = -100  # one ignored sample
    weight = rng.uniform(0.5, 2, 13).astype(dtype) if weighted else None
    grad = rng.standard_normal(37).astype(dtype) if reduction == "none" else None
    results = []
    for num in (1, 2):
        threads(num)
        loss = nn.CrossEntropyLoss(weight=weight, reduction=reduction)
        results.append([loss(x, target), loss.backward(grad)])
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b, strict=True)
    assert any(grain < size for size, grain in calls)
