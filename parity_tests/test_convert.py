"""to_torch / from_torch / register_twin."""

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn
from scratch.nn import Parameter
from torch_ref.testing import assert_module_parity


def model(dtype=np.float32):
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 5, dtype=dtype), nn.Sigmoid(), nn.Linear(5, 2, dtype=dtype),
                         nn.LogSoftmax(dim=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_torch_copies_weights_dtype_and_mode(dtype):
    scratch_model = model(dtype).eval()
    twin = torch_ref.to_torch(scratch_model)
    assert isinstance(twin, torch.nn.Sequential) and not twin.training and not twin[1].training
    for (key, ours), (tkey, theirs) in zip(scratch_model.state_dict().items(), twin.state_dict().items()):
        assert key == tkey and theirs.dtype == torch.from_numpy(ours).dtype
        np.testing.assert_array_equal(ours, theirs.numpy())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_from_torch_round_trips(dtype):
    twin = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).to(dtype)
    scratch_model = torch_ref.from_torch(twin)
    assert scratch_model[0].weight.dtype == torch_ref.convert.NUMPY_DTYPES[dtype]
    back = torch_ref.to_torch(scratch_model)
    for key, value in twin.state_dict().items():
        assert torch.equal(back.state_dict()[key], value)


def test_losses_convert_with_their_options():
    weight = np.array([1.0, 2.0, 0.5], dtype=np.float32)
    twin = torch_ref.to_torch(nn.CrossEntropyLoss(weight=weight, ignore_index=2, reduction="sum", label_smoothing=0.1))
    assert (twin.ignore_index, twin.reduction, twin.label_smoothing) == (2, "sum", 0.1)
    np.testing.assert_array_equal(twin.weight.numpy(), weight)


class Unknown(nn.Module):
    def forward(self, x):
        return x


class TorchOnly(torch.nn.Module):
    """A torch layer of the user's own, which scratch has no twin for."""

    def forward(self, x):
        return x


def test_unknown_layers_are_named():
    with pytest.raises(TypeError, match=r"Unknown.*at '1'"):
        torch_ref.to_torch(nn.Sequential(nn.ReLU(), Unknown()))
    with pytest.raises(TypeError, match="from_torch: no twin known for layer TorchOnly"):
        torch_ref.from_torch(torch.nn.Sequential(TorchOnly()))


class Scale(nn.Module):
    """A user's own layer: y = x * s with a learnable vector s."""

    def __init__(self, features, dtype=None):
        super().__init__()
        self.scale = Parameter(np.linspace(0.5, 1.5, features).astype(dtype or np.float32))

    def forward(self, x):
        self._save(x)
        return x * self.scale.data

    def backward(self, grad_output):
        x = self._saved(grad_output)
        self.scale.accumulate_grad((grad_output * x).reshape(-1, x.shape[-1]).sum(axis=0))
        return grad_output * self.scale.data


class TorchScale(torch.nn.Module):
    def __init__(self, features):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(features))

    def forward(self, x):
        return x * self.scale


def test_register_twin_teaches_both_directions_a_users_layer():
    torch_ref.register_twin(Scale, lambda m: TorchScale(m.scale.shape[0]), torch_cls=TorchScale,
                            reverse=lambda t: Scale(t.scale.shape[0]))
    net = nn.Sequential(nn.Linear(4, 3, dtype=np.float64), Scale(3, np.float64))
    assert_module_parity(net, np.random.default_rng(0).standard_normal((5, 4)))
    back = torch_ref.from_torch(torch_ref.to_torch(net))
    np.testing.assert_array_equal(back[1].scale.data, net[1].scale.data)
