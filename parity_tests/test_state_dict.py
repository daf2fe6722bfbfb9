"""``load_state_dict`` on what users actually hand it: not a mapping, a ragged list, a bfloat16 tensor, an old
BatchNorm checkpoint without ``num_batches_tracked``; each as torch takes it, or a clear error naming the key,
and a failed load changes nothing."""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref import to_torch


def _linear() -> nn.Linear:
    return nn.Linear(3, 2, rng=np.random.default_rng(0))


@pytest.mark.parametrize("state", [None, [("weight", np.ones((2, 3)))]], ids=["None", "list of pairs"])
def test_a_state_dict_that_is_not_dict_like_is_refused_as_torch_refuses_it(state):
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        to_torch(_linear()).load_state_dict(state)
    with pytest.raises(TypeError, match="Linear.load_state_dict: expected state_dict to be dict-like, got "
                                        f"{type(state).__name__}"):
        _linear().load_state_dict(state)


def test_a_ragged_entry_names_its_key_and_changes_nothing():
    model = _linear()
    before = model.state_dict()
    state = before | {"bias": [[1.0], [1.0, 2.0]]}
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias", expected an array from '
                                           "checkpoint but received list"):
        model.load_state_dict(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_a_bfloat16_tensor_is_cast_as_torch_casts_it():
    model, twin = _linear(), to_torch(_linear())
    state = {k: torch.from_numpy(v).to(torch.bfloat16) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    twin.load_state_dict(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, twin.state_dict()[key].numpy())
    assert not np.array_equal(model.weight.data, _linear().weight.data)  # the rounding to bfloat16 happened


def test_an_old_batchnorm_checkpoint_without_num_batches_tracked_loads_as_in_torch():
    model, twin = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    model.num_batches_tracked[...] = 5
    twin.num_batches_tracked.fill_(5)
    old = {k: v for k, v in model.state_dict().items() if k != "num_batches_tracked"}
    old["running_mean"] = np.arange(3.0, dtype=np.float32)
    assert model.load_state_dict(old) == ([], [])
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in old.items()})  # a plain dict: no version metadata
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, twin.state_dict()[key].numpy())
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "running_var"'):
        model.load_state_dict({k: v for k, v in old.items() if k != "running_var"})
