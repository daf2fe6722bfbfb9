"""Lazy normalizations (LazyBatchNorm1d/2d/3d, LazyInstanceNorm1d/2d/3d) beyond their catalog cases: the first call
infers num_features and materializes the uninitialized parameters and buffers (torch's UninitializedBuffer) as the
plain class's; before it, repr, state_dict, errors, ``.to``, twins and copies are torch's; load_state_dict into an
unmaterialized module materializes the buffers too."""

import copy

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref import from_torch, to_torch
from torch_ref.catalog.data import normal

# (lazy class, its options, an input shape)
LAZY = [
    (nn.LazyBatchNorm1d, {}, (6, 4)),
    (nn.LazyBatchNorm1d, {"momentum": None, "bias": False}, (3, 4, 5)),
    (nn.LazyBatchNorm2d, {"eps": 1e-3, "momentum": 0.3}, (2, 3, 4, 5)),
    (nn.LazyBatchNorm3d, {"affine": False}, (2, 3, 2, 3, 2)),
    (nn.LazyInstanceNorm1d, {}, (2, 3, 7)),
    (nn.LazyInstanceNorm2d, {"track_running_stats": False}, (2, 4, 3, 5)),
    (nn.LazyInstanceNorm3d, {"affine": False, "momentum": 0.5}, (2, 3, 3, 2, 4)),
]
IDS = [f"{cls.__name__}{i}" for i, (cls, *_) in enumerate(LAZY)]


def _torch(cls: type, options: dict) -> torch.nn.Module:
    return getattr(torch.nn, cls.__name__)(**options).double()


@pytest.mark.parametrize("cls, options, shape", LAZY, ids=IDS)
def test_the_first_calls_infer_num_features_and_run_as_torchs_lazy_module(cls, options, shape):
    """Side by side with torch's lazy module from its unmaterialized state: each call's output, input gradient,
    parameter gradients, running statistics and num_batches_tracked; the module becomes the plain class."""
    rng = np.random.default_rng(0)
    module, twin = cls(**options, dtype=np.float64), _torch(cls, options)
    assert module.has_uninitialized_params() == twin.has_uninitialized_params()
    for step in range(2):
        x, dy = normal(rng, np.float64, *shape, scale=2) + 1, normal(rng, np.float64, *shape)
        tx = torch.from_numpy(x).requires_grad_()
        out = twin(tx)
        out.backward(torch.from_numpy(dy))
        np.testing.assert_allclose(module(x), out.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(module.backward(dy), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
        assert type(module) is cls.cls_to_become and type(twin) is getattr(torch.nn, cls.cls_to_become.__name__)
        theirs = dict(twin.named_parameters())
        for name, param in module.named_parameters():
            np.testing.assert_allclose(param.grad, theirs[name].grad.numpy(), rtol=1e-10, atol=1e-12)
        theirs = twin.state_dict()
        assert list(module.state_dict()) == list(theirs)
        for key, value in module.state_dict().items():
            np.testing.assert_allclose(value, theirs[key].numpy(), rtol=1e-12, err_msg=f"{key} after call {step}")
    plain = cls.cls_to_become(shape[1], **{"affine": True, "track_running_stats": True, **options})
    assert repr(module) == repr(plain)  # num_features inferred (torch's repr agrees once it is materialized)
    assert repr(twin) == repr(plain) or (not twin.affine and not twin.track_running_stats)


@pytest.mark.parametrize("cls, options, shape", LAZY, ids=IDS)
def test_before_the_first_call_it_is_torchs_lazy_module(cls, options, shape):
    """repr, state_dict keys and kinds (uninitialized parameters and buffers), torch's error on a shape."""
    module, twin = cls(**options), getattr(torch.nn, cls.__name__)(**options)
    assert repr(module) == repr(twin)
    ours, theirs = module.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        kind = type(value).__name__
        assert type(ours[key]).__name__ == (kind if kind.startswith("Uninitialized") else "ndarray"), key
    if module.track_running_stats:
        assert repr(module.running_mean) == repr(twin.running_mean) == "<UninitializedBuffer>"
        assert module.num_batches_tracked.dtype == np.int64 and int(module.num_batches_tracked) == 0
        with pytest.raises(RuntimeError) as error:
            twin.running_var.shape  # noqa: B018
        with pytest.raises(RuntimeError) as ours_error:
            module.running_var.shape  # noqa: B018
        assert str(ours_error.value) == str(error.value)
        with pytest.raises(ValueError, match="Attempted to use an uninitialized buffer"):
            np.asarray(module.running_mean)


def test_load_state_dict_materializes_parameters_and_buffers_from_the_loaded_shapes():
    """torch's _lazy_load_hook, for the buffers too: the loaded running statistics and count are used; the first
    call then checks the input's channels against them."""
    rng = np.random.default_rng(3)
    source = nn.BatchNorm2d(4)
    for array in (source.weight.data, source.bias.data, source.running_mean):
        array[...] = rng.standard_normal(4)
    source.running_var[...] = rng.uniform(0.5, 2.0, 4)
    source.num_batches_tracked[...] = 7
    state = source.state_dict()
    module, twin = nn.LazyBatchNorm2d(), torch.nn.LazyBatchNorm2d()
    module.load_state_dict(state)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    assert type(module) is nn.LazyBatchNorm2d and not module.has_uninitialized_params() and repr(module) == repr(twin)
    assert type(module.running_mean) is np.ndarray and int(module.num_batches_tracked) == 7
    x = normal(rng, np.float32, 2, 4, 3, 3)
    module.eval(), twin.eval(), source.eval()
    np.testing.assert_array_equal(module(x), source(x))
    np.testing.assert_allclose(module(x), twin(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert type(module) is nn.BatchNorm2d and repr(module) == repr(source)
    other = nn.LazyBatchNorm2d()
    other.load_state_dict(state)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input with 4 channels"):
        other(np.ones((2, 5, 3, 3), np.float32))


def test_uninitialized_states_load_as_torch_loads_them():
    lazy = nn.LazyInstanceNorm1d()
    lazy.load_state_dict(nn.LazyInstanceNorm1d().state_dict())
    assert lazy.has_uninitialized_params()
    plain = nn.BatchNorm1d(3)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
        plain.load_state_dict(nn.LazyBatchNorm1d().state_dict())
    with pytest.raises(RuntimeError):
        torch.nn.BatchNorm1d(3).load_state_dict(torch.nn.LazyBatchNorm1d().state_dict())
    np.testing.assert_array_equal(plain.running_var, np.ones(3, np.float32))


def test_to_dtype_copies_and_twins_keep_the_buffers_uninitialized():
    module = nn.LazyBatchNorm1d().to(np.float64)
    assert module.running_mean.dtype == module.weight.dtype == np.float64
    clone = copy.deepcopy(module)
    twin = to_torch(module)
    assert type(twin) is torch.nn.LazyBatchNorm1d and twin.running_var.dtype == torch.float64
    assert isinstance(twin.running_var, torch.nn.parameter.UninitializedBuffer)
    back = from_torch(twin)
    assert type(back) is nn.LazyBatchNorm1d and isinstance(back.running_var, nn.UninitializedBuffer)
    assert back.running_var.dtype == np.float64 and repr(back) == repr(twin)
    module(np.ones((3, 5)))
    assert module.running_var.dtype == np.float64 and module.running_var.shape == (5,)
    assert clone.has_uninitialized_params() and type(clone) is nn.LazyBatchNorm1d


def test_an_unbatched_instance_norm_input_gives_torchs_num_features():
    """torch's quirk: num_features is the input's size(1) whatever its rank, so an unbatched (C, L) first input with
    affine (LazyInstanceNorm's default) makes num_features L and is then refused, in both engines."""
    x = np.ones((3, 5), np.float32)
    with pytest.raises(ValueError, match=r"expected input's size at dim=0 to match num_features \(5\)"):
        torch.nn.LazyInstanceNorm1d()(torch.from_numpy(x))
    with pytest.raises(ValueError, match=r"InstanceNorm1d: expected input's size at dim=0 to match num_features "
                                         r"\(5\), but got: 3"):
        nn.LazyInstanceNorm1d()(x)
    x = normal(np.random.default_rng(0), np.float32, 3, 5)  # nothing lazy: it runs (torch warns: num_features 0)
    module, twin = nn.LazyInstanceNorm1d(affine=False, track_running_stats=False), torch.nn.LazyInstanceNorm1d(
        affine=False, track_running_stats=False)
    assert not module.has_uninitialized_params()
    with pytest.warns(UserWarning, match="does not match num_features"):
        out = module(x)
    with pytest.warns(UserWarning):
        expected = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert type(module) is nn.InstanceNorm1d


@pytest.mark.parametrize("make, shape, message", [
    (nn.LazyBatchNorm2d, (2, 3, 4), r"BatchNorm2d: expected 4D input \(got 3D input"),
    (nn.LazyBatchNorm1d, (4,), r"BatchNorm1d: expected 2D or 3D input \(got 1D input"),
    (nn.LazyInstanceNorm3d, (2, 3), r"LazyInstanceNorm3d: expected 4D or 5D input \(got 2D input"),
])
def test_bad_first_inputs_are_refused_and_leave_it_lazy(make, shape, message):
    module, x = make(), np.ones(shape, np.float32)
    with pytest.raises((ValueError, IndexError)):
        getattr(torch.nn, make.__name__)()(torch.from_numpy(x))
    with pytest.raises(ValueError, match=message):
        module(x)
    assert type(module) is make and module.has_uninitialized_params()
    with pytest.raises(TypeError, match="expected a floating-point dtype"):
        nn.UninitializedBuffer(dtype=np.int64)
