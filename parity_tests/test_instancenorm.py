"""InstanceNorm1d/2d/3d beyond the catalog: finite differences, running statistics step by step (momentum
None included: torch never moves them), unbatched inputs, state dicts and reprs, torch's warning and errors."""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref import to_torch
from torch_ref.catalog.data import normal
from torch_ref.testing import DTYPES, assert_close, assert_gradcheck, build, catalog_cases
from torch_ref.tolerance import reduction_length, rtol

CLASSES = [nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d]
SPATIAL = {nn.InstanceNorm1d: (7,), nn.InstanceNorm2d: (3, 4), nn.InstanceNorm3d: (2, 3, 2)}


@pytest.mark.parametrize("case", catalog_cases("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", kind="module"),
                         ids=lambda c: c.name)
def test_instance_norm_matches_finite_differences(case):
    module, (x,) = build(case, np.float64)
    assert_gradcheck(module, x)


MODES = [True, False, True, True, False, True]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum", [0.3, None])
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_running_statistics_follow_torch_step_by_step(cls, momentum, dtype):
    module = cls(3, momentum=momentum, affine=True, track_running_stats=True, dtype=dtype)
    twin = to_torch(module)
    rng = np.random.default_rng(5)
    for step, training in enumerate(MODES):
        module.train(training)
        twin.train(training)
        shape = (4, 3, *SPATIAL[cls]) if step % 2 else (3, *SPATIAL[cls])  # batched and unbatched
        x = (rng.uniform(-2, 3) + rng.uniform(0.5, 3) * rng.standard_normal(shape)).astype(dtype)
        grad = rng.standard_normal(shape).astype(dtype)
        x_torch = torch.tensor(x, requires_grad=True)
        twin(x_torch).backward(torch.tensor(grad))
        tol = rtol(dtype, reduction_length(x)) * (step + 1)
        out = module(x)
        assert out.shape == shape
        assert_close(module.backward(grad), x_torch.grad, tol, f"step {step}: grad_input")
        for name, buffer in twin.named_buffers():
            assert_close(getattr(module, name), buffer, tol, f"step {step}: {name}")
    assert int(module.num_batches_tracked) == 0  # torch's InstanceNorm never counts batches
    if momentum is None:  # torch's factor 0: the running statistics never leave their initial values
        assert (module.running_mean == 0).all() and (module.running_var == 1).all()


def test_unbatched_input_is_the_batch_of_one():
    module = nn.InstanceNorm2d(3, affine=True, dtype=np.float64)
    module.weight.data[...] = [0.5, -1.0, 2.0]
    x = normal(np.random.default_rng(0), np.float64, 3, 4, 5)
    np.testing.assert_array_equal(module(x), module(x[None])[0])


@pytest.mark.parametrize("options", [{}, {"affine": True}, {"track_running_stats": True}, {"momentum": None},
                                     {"affine": True, "bias": False, "eps": 1e-3}])
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_state_dict_and_repr_match_torch(cls, options):
    module, twin = cls(4, **options), getattr(torch.nn, cls.__name__)(4, **options)
    assert repr(module) == repr(twin)
    assert list(module.state_dict()) == list(twin.state_dict())
    for key, value in twin.state_dict().items():
        np.testing.assert_array_equal(module.state_dict()[key], value.numpy())
        assert module.state_dict()[key].dtype == value.numpy().dtype, key


def test_other_channel_count_warns_without_affine_and_raises_with_it():
    x = normal(np.random.default_rng(0), np.float32, 2, 5, 6)
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        out = nn.InstanceNorm1d(3)(x)
    assert out.shape == x.shape
    with pytest.raises(ValueError, match=r"InstanceNorm1d: expected input's size at dim=1 to match num_features \(3"):
        nn.InstanceNorm1d(3, affine=True)(x)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="InstanceNorm1d: running_mean should contain 10"):
        nn.InstanceNorm1d(3, track_running_stats=True)(x)


def test_one_spatial_element_is_refused_with_the_input_statistics():
    x = np.ones((2, 3, 1, 1), dtype=np.float32)
    for module in (nn.InstanceNorm2d(3), nn.InstanceNorm2d(3).eval()):
        with pytest.raises(ValueError, match=r"InstanceNorm2d: Expected more than 1 spatial element when training, "
                                             r"got input size \[2, 3, 1, 1\]"):
            module(x)
    out = nn.InstanceNorm2d(3, track_running_stats=True).eval()(x)  # the running statistics normalize
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-5), rtol=1e-6)


@pytest.mark.parametrize(("cls", "shape"), [(nn.InstanceNorm1d, (3,)), (nn.InstanceNorm1d, (2, 3, 4, 5)),
                                            (nn.InstanceNorm2d, (3, 4)), (nn.InstanceNorm3d, (2, 3, 4, 4, 4, 4))])
def test_wrong_number_of_dims_names_the_module(cls, shape):
    with pytest.raises(ValueError, match=f"{cls.__name__}: expected .*D input \\(got {len(shape)}D input"):
        cls(3)(np.zeros(shape, dtype=np.float32))


def test_input_of_another_dtype_than_the_parameters_is_refused():
    with pytest.raises(TypeError, match=r"InstanceNorm1d: expected input of dtype float32.*got float64"):
        nn.InstanceNorm1d(3, affine=True)(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError, match=r"InstanceNorm1d: expected input of dtype float32.*got float64"):
        nn.InstanceNorm1d(3, track_running_stats=True)(np.zeros((2, 3, 4)))
