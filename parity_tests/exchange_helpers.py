"""What the weight-exchange tests share (test_exchange*.py): the formats with their save and load functions, the
models written (built and moved the same way in scratch and in torch), a written file, and the state comparison."""

import re
from collections import OrderedDict

import numpy as np
import torch

import scratch
from scratch import nn
from torch_ref import load_pt, load_safetensors, save_pt, save_safetensors
from torch_ref.convert import TORCH_DTYPES
from torch_ref.twins import build_torch

FORMATS = ["safetensors", "pt"]
SAVE = {"safetensors": save_safetensors, "pt": save_pt}
LOAD = {"safetensors": load_safetensors, "pt": load_pt}
NAMED = re.escape("weights.bin")  # every error about a file's content names the file


def mlp(dtype):
    return nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.Tanh(), nn.Linear(8, 3, dtype=dtype))


def cnn(dtype):  # BatchNorm2d brings float buffers and the int64 num_batches_tracked
    return nn.Sequential(nn.Conv2d(2, 4, 3, dtype=dtype), nn.BatchNorm2d(4, dtype=dtype), nn.ReLU(),
                         nn.Flatten(), nn.Linear(64, 3, dtype=dtype))


def lstm(dtype):
    return nn.LSTM(4, 6, num_layers=2, dtype=dtype)


MODELS = {"mlp": (mlp, (3, 5)), "cnn": (cnn, (3, 2, 6, 6)), "lstm": (lstm, (5, 3, 4))}


def make_input(name, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(MODELS[name][1]).astype(dtype)


def scratch_model(name, dtype, seed):
    """A scratch model whose BatchNorm statistics have moved (two training forwards), in eval mode."""
    scratch.manual_seed(seed)
    model = MODELS[name][0](dtype)
    for step in range(2):
        model(make_input(name, dtype, seed=10 + step))
    return model.eval()


def torch_model(name, dtype, seed):
    """The same architecture built and initialized by torch, statistics moved likewise, in eval mode."""
    torch.manual_seed(seed)
    model = build_torch(MODELS[name][0](dtype)).to(TORCH_DTYPES[np.dtype(dtype)])
    with torch.no_grad():
        for step in range(2):
            model(torch.from_numpy(make_input(name, dtype, seed=20 + step)))
    return model.eval()


def assert_state_identical(actual, expected, order=True):
    """Same keys (in the same order unless ``order=False``), dtypes, shapes and bits."""
    expected = OrderedDict((key, np.asarray(value.numpy() if isinstance(value, torch.Tensor) else value))
                           for key, value in expected.items())
    keys = list(actual) if order else sorted(actual)
    assert keys == (list(expected) if order else sorted(expected))
    for key, value in expected.items():
        got = actual[key].numpy() if isinstance(actual[key], torch.Tensor) else actual[key]
        assert got.dtype == value.dtype and got.shape == value.shape, key
        assert np.array_equal(got, value), key


def written(fmt, tmp_path):
    path = tmp_path / "weights.bin"
    SAVE[fmt](scratch_model("cnn", np.float32, seed=6), path)
    return path, path.read_bytes()
