"""FractionalMaxPool2d/3d and MaxUnpool1d/2d/3d beyond their catalog cases (parity with torch: test_catalog.py):
finite differences, the random samples (drawn from scratch's generator, replayed by the twin, or given as
torch's ``_random_samples`` buffer), ties and indices as torch, unpooling with ``output_size``, and errors
naming the module where torch rejects the input too."""

import numpy as np
import pytest
import torch

from scratch import nn
from scratch.random import manual_seed
from torch_ref import to_torch
from torch_ref.catalog.data import normal
from torch_ref.testing import assert_gradcheck, build

from .test_pooling import _raises_like_torch, distinct, ties

FRACTIONAL = [(nn.FractionalMaxPool2d, {"kernel_size": 2, "output_ratio": 0.5}, (2, 3, 9, 11)),
              (nn.FractionalMaxPool2d, {"kernel_size": (3, 2), "output_size": (4, 6)}, (3, 10, 9)),
              (nn.FractionalMaxPool3d, {"kernel_size": 2, "output_ratio": (0.5, 0.6, 0.4)}, (2, 2, 7, 6, 8)),
              (nn.FractionalMaxPool3d, {"kernel_size": (3, 2, 2), "output_size": (5, 4, 3)}, (3, 9, 7, 6))]


def _with_samples(cls, options, shape, dtype=np.float64, seed=0):
    """The module with fixed ``_random_samples`` (so repeated forwards pool the same windows) and its input."""
    dims = 2 if cls is nn.FractionalMaxPool2d else 3
    batch = shape[0] if len(shape) == dims + 2 else 1
    samples = np.random.default_rng(seed).random((batch, shape[-dims - 1], dims))
    return cls(**options, _random_samples=samples).to(dtype), distinct(dtype, shape)


@pytest.mark.parametrize(("cls", "options", "shape"), FRACTIONAL, ids=lambda v: str(v))
def test_fractional_gradient_matches_finite_differences(cls, options, shape):
    module, x = _with_samples(cls, options, shape)
    assert_gradcheck(module, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "options", "shape"), FRACTIONAL, ids=lambda v: str(v))
def test_fractional_ties_and_indices_exactly_as_torch(cls, options, shape, dtype):
    module, _ = _with_samples(cls, {**options, "return_indices": True}, shape, dtype)
    x = ties(dtype, shape)
    x.reshape(-1)[::9] = np.nan
    out, indices = module(x)
    g = normal(np.random.default_rng(7), dtype, *out.shape)
    dx = module.backward(g)
    leaf = torch.tensor(x, requires_grad=True)
    theirs, their_indices = to_torch(module)(leaf)
    theirs.backward(torch.tensor(g))
    np.testing.assert_array_equal(indices, their_indices.numpy())
    np.testing.assert_array_equal(out, theirs.detach().numpy())
    np.testing.assert_array_equal(dx, leaf.grad.numpy())


def test_samples_come_from_scratchs_generator_with_torchs_shape_and_dtype():
    x = normal(np.random.default_rng(1), np.float32, 2, 3, 9, 8)
    manual_seed(5)
    pool = nn.FractionalMaxPool2d(2, output_ratio=0.5)
    first = pool(x)
    assert pool.samples.shape == (2, 3, 2) and pool.samples.dtype == np.float32  # torch.rand(N, C, 2), input's dtype
    np.testing.assert_array_equal(pool.samples, np.random.default_rng(5).random((2, 3, 2)).astype(np.float32))
    drawn = pool.samples
    pool(x)
    assert not np.array_equal(pool.samples, drawn)  # a new draw at each forward, as torch
    manual_seed(5)
    np.testing.assert_array_equal(nn.FractionalMaxPool2d(2, output_ratio=0.5)(x), first)  # same seed, same windows
    seeded = nn.FractionalMaxPool3d(2, output_ratio=0.5, rng=np.random.default_rng(3))
    seeded(x[0, :, :6, :6].reshape(3, 6, 6, 1).repeat(3, -1))  # unbatched: torch draws (1, C, 3)
    np.testing.assert_array_equal(seeded.samples, np.random.default_rng(3).random((1, 3, 3)).astype(np.float32))


def test_given_samples_are_torchs_buffer():
    samples = np.random.default_rng(0).random((2, 3, 2))
    pool = nn.FractionalMaxPool2d(2, output_size=3, _random_samples=samples)
    twin = torch.nn.FractionalMaxPool2d(2, output_size=3, _random_samples=torch.tensor(samples))
    assert list(pool.state_dict()) == list(twin.state_dict()) == ["_random_samples"]
    assert list(nn.FractionalMaxPool2d(2, output_size=3).state_dict()) == []
    x = normal(np.random.default_rng(1), np.float64, 2, 3, 7, 8)
    np.testing.assert_array_equal(pool(x), twin(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(pool.samples, samples)
    assert repr(pool) == repr(twin) == "FractionalMaxPool2d()"


@pytest.mark.parametrize(("dims", "shape", "kernel"), [(1, (2, 3, 9), 3), (2, (2, 3, 7, 6), (3, 2)),
                                                       (3, (2, 2, 4, 6, 6), 2)])
def test_unpool_gradient_matches_finite_differences(dims, shape, kernel):
    pool = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[dims - 1](kernel, return_indices=True)
    out, indices = pool(distinct(np.float64, shape))
    unpool = (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)[dims - 1](kernel)
    assert_gradcheck(unpool, out, indices)


@pytest.mark.parametrize("output_size", ["full", "spatial"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_unpool_with_output_size_inverts_an_odd_sized_pool_as_torch(dims, output_size):
    shape = (2, 3, 7, 5, 9)[: dims + 2]
    x = distinct(np.float64, shape)
    out, indices = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[dims - 1](2, return_indices=True)(x)
    unpool = (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)[dims - 1](2)
    size = shape if output_size == "full" else shape[2:]
    y = unpool(out, indices, size)
    g = normal(np.random.default_rng(2), np.float64, *y.shape)
    dx = unpool.backward(g)
    leaf = torch.tensor(out, requires_grad=True)
    theirs = to_torch(unpool)(leaf, torch.tensor(indices), size)
    theirs.backward(torch.tensor(g))
    assert y.shape == shape
    np.testing.assert_array_equal(y, theirs.detach().numpy())
    np.testing.assert_array_equal(dx, leaf.grad.numpy())
    np.testing.assert_array_equal(np.where(y != 0, x, 0), y)  # each maximum back in its place, zeros elsewhere


X2 = normal(np.random.default_rng(1), np.float32, 2, 3, 5, 5)
I2 = np.zeros((2, 3, 2, 2), np.int64)
BAD = {
    "fractional2d-no-size": (lambda n: n.FractionalMaxPool2d(2), X2, ValueError),
    "fractional2d-size-and-ratio": (lambda n: n.FractionalMaxPool2d(2, 2, 0.5), X2, ValueError),
    "fractional2d-ratio-over-1": (lambda n: n.FractionalMaxPool2d(2, output_ratio=1.5), X2, ValueError),
    "fractional2d-pool-too-large": (lambda n: n.FractionalMaxPool2d(3, output_size=4), X2, ValueError),
    "fractional3d-pool-too-large-strict": (lambda n: n.FractionalMaxPool3d(2, output_size=(3, 2, 2)),
                                           X2[:, :, None].repeat(4, 2), ValueError),
    "fractional3d-zero-kernel": (lambda n: n.FractionalMaxPool3d(0, output_size=2), X2[None], ValueError),
    "fractional2d-2d-input": (lambda n: n.FractionalMaxPool2d(2, output_size=2), X2[0, 0], ValueError),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_inputs_and_arguments_raise_like_torch(case):
    _raises_like_torch(*BAD[case])


UNPOOL_BAD = {
    "index-past-the-output": (lambda n: n.MaxUnpool2d(2), I2 + 16, None),
    "negative-index": (lambda n: n.MaxUnpool2d(2), I2 - 1, None),
    "output-size-out-of-range": (lambda n: n.MaxUnpool2d(2), I2, (7, 4)),
    "output-size-of-wrong-length": (lambda n: n.MaxUnpool2d(2), I2, (4, 4, 4)),
    "indices-of-another-shape": (lambda n: n.MaxUnpool2d(2), I2[:, :, :1], None),
}


@pytest.mark.parametrize("case", UNPOOL_BAD)
def test_bad_unpool_inputs_raise_like_torch_naming_the_module(case):
    make, indices, size = UNPOOL_BAD[case]
    x = normal(np.random.default_rng(1), np.float32, 2, 3, 2, 2)
    with pytest.raises(ValueError, match="MaxUnpool2d"):
        make(nn)(x, indices, size)
    with pytest.raises((RuntimeError, ValueError)):
        make(torch.nn)(torch.tensor(x), torch.tensor(indices), size)


def test_errors_name_the_module():
    with pytest.raises(ValueError, match=r"FractionalMaxPool3d: pool time 2 too large relative to input time 4"):
        nn.FractionalMaxPool3d(2, output_size=(3, 2, 2))(np.zeros((1, 4, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"FractionalMaxPool2d: expected _random_samples of shape"):
        nn.FractionalMaxPool2d(2, output_size=2, _random_samples=np.zeros((2, 4, 2)))(X2)
    with pytest.raises(TypeError, match=r"MaxUnpool1d: expected indices of an integer dtype"):
        nn.MaxUnpool1d(2)(X2[0], X2[0])
    with pytest.raises(ValueError, match=r"MaxUnpool2d: found an invalid max index 16 \(output volumes .* 4x4"):
        nn.MaxUnpool2d(2)(X2[:, :, :2, :2], I2 + 16)


@pytest.mark.parametrize("case", ["MaxUnpool1d(stride,padding,overlapping,unbatched)", "MaxUnpool3d",
                                  "FractionalMaxPool3d(_random_samples)"])
def test_repr_matches_torchs(case):
    module, _ = build(case, np.float32)
    assert repr(module) == repr(to_torch(module))
