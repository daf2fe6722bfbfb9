"""``torch_ref.exchange``: weights go between scratch and torch through safetensors and ``.pt`` files with
nothing lost (values, dtypes, key order), and an interrupted save keeps the previous file. Damaged, foreign and
unsafe files: test_exchange_untrusted.py; the shared models and helpers: exchange_helpers.py."""

import os
import re
import sys
from collections import OrderedDict

import numpy as np
import pytest
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

from torch_ref import from_torch, load_safetensors, save_pt, save_safetensors, to_torch
from torch_ref.arrays import leaves
from torch_ref.exchange import INSTALL_HINT, KEY_ORDER

from .exchange_helpers import (
    FORMATS,
    LOAD,
    MODELS,
    SAVE,
    assert_state_identical,
    make_input,
    scratch_model,
    torch_model,
    written,
)

DTYPES = [np.float32, np.float64]
TORCH_SAVE = {"safetensors": safetensors.torch.save_file, "pt": torch.save}
TORCH_LOAD = {"safetensors": safetensors.torch.load_file,
              "pt": lambda path: torch.load(path, map_location="cpu", weights_only=True)}


def torch_outputs(model, x):
    with torch.no_grad():
        return [out.numpy() for out in leaves(model(torch.from_numpy(x)))]


def scratch_outputs(model, x):
    return leaves(model(x))


def assert_identical_outputs(actual, expected, same=True):
    """Bit-identical outputs (same engine, same weights); with ``same=False``, that they differ."""
    equal = len(actual) == len(expected) and all(
        a.dtype == e.dtype and np.array_equal(a, e) for a, e in zip(actual, expected))
    assert equal == same, "outputs differ" if same else "outputs already equal before loading"


# ----------------------------------------------------------------------------- models both ways
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_scratch_model_loads_into_torch(fmt, name, dtype, tmp_path):
    model, x = scratch_model(name, dtype, seed=0), make_input(name, dtype)
    path = tmp_path / f"model.{fmt}"
    SAVE[fmt](model, path)
    twin = torch_model(name, dtype, seed=1)  # torch's own initialization: other weights
    expected = torch_outputs(to_torch(model), x)
    assert_identical_outputs(torch_outputs(twin, x), expected, same=False)
    twin.load_state_dict(TORCH_LOAD[fmt](path), strict=True)
    assert_state_identical(twin.state_dict(), model.state_dict())
    assert_identical_outputs(torch_outputs(twin, x), expected)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_model_loads_into_scratch(fmt, name, dtype, tmp_path):
    source, x = torch_model(name, dtype, seed=2), make_input(name, dtype)
    path = tmp_path / f"model.{fmt}"
    TORCH_SAVE[fmt](source.state_dict(), path)
    loaded = LOAD[fmt](path)
    assert_state_identical(loaded, source.state_dict(), order=fmt == "pt")  # safetensors sorts torch's keys
    model = scratch_model(name, dtype, seed=3)
    expected = scratch_outputs(from_torch(source).eval(), x)
    assert_identical_outputs(scratch_outputs(model, x), expected, same=False)
    model.load_state_dict(loaded, strict=True)
    assert_state_identical(model.state_dict(), source.state_dict())
    assert_identical_outputs(scratch_outputs(model, x), expected)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_reads_scratch_key_order_and_dtypes(fmt, dtype, tmp_path):
    model = scratch_model("cnn", dtype, seed=4)
    SAVE[fmt](model, tmp_path / "model")
    state = model.state_dict()
    assert state["1.num_batches_tracked"].dtype == np.int64 and state["1.num_batches_tracked"] == 2
    assert_state_identical(TORCH_LOAD[fmt](tmp_path / "model"), state, order=fmt == "pt")
    assert_state_identical(LOAD[fmt](tmp_path / "model"), state)


# ----------------------------------------------------------------------------- exact round trips
def mixed_state():
    """Every supported kind of entry, in an order no sorting would give."""
    rng = np.random.default_rng(5)
    return OrderedDict([
        ("z.weight", rng.standard_normal((3, 4)).astype(np.float32)),
        ("a.weight", rng.standard_normal((4, 3)).T),  # float64, not C-contiguous
        ("m.num_batches_tracked", np.array(7, dtype=np.int64)),
        ("b.half", rng.standard_normal(5).astype(np.float16)),
        ("k.mask", np.array([True, False, True])),
        ("c.empty", np.zeros((0, 3), dtype=np.float32)),
        ("y.bytes", np.arange(6, dtype=np.uint8).reshape(2, 3)),
        ("d.int32", np.arange(-2, 2, dtype=np.int32)),
        ("e.swapped", np.arange(3, dtype=">f8")),  # big-endian: written in the file's little-endian
    ])


@pytest.mark.parametrize("fmt", FORMATS)
def test_mixed_state_round_trips_exactly(fmt, tmp_path):
    state = mixed_state()
    SAVE[fmt](state, tmp_path / "weights.bin")
    loaded = LOAD[fmt](tmp_path / "weights.bin")
    expected = OrderedDict((key, value.astype(value.dtype.newbyteorder("="))) for key, value in state.items())
    assert_state_identical(loaded, expected)
    assert all(value.flags.writeable and value.flags.c_contiguous for value in loaded.values())
    assert os.listdir(tmp_path) == ["weights.bin"]


def test_safetensors_metadata_is_kept(tmp_path):
    save_safetensors(mixed_state(), tmp_path / "weights.bin", metadata={"format": "pt", "note": "lecture 3"})
    with safetensors.safe_open(tmp_path / "weights.bin", framework="np") as reader:
        metadata = reader.metadata()
    assert metadata["format"] == "pt" and metadata["note"] == "lecture 3"
    assert metadata[KEY_ORDER] == '["' + '", "'.join(mixed_state()) + '"]'


@pytest.mark.parametrize("metadata, error", [
    ({KEY_ORDER: "[]"}, ValueError), ({"n": 1}, TypeError), ({2: "x"}, TypeError), ("format=pt", TypeError),
])
def test_bad_metadata_refused(metadata, error, tmp_path):
    with pytest.raises(error, match="save_safetensors"):
        save_safetensors({"w": np.ones(2)}, tmp_path / "weights.bin", metadata=metadata)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("state, where", [
    ({"w": np.array([1, "x"], dtype=object)}, "'w'"), ({"w": np.ones(2, dtype=np.complex128)}, "'w'"),
    ({"w": [1.0, 2.0]}, "'w'"), ({3: np.ones(2)}, "3"), ([np.ones(2)], "list"),
    ({"w": np.ones(2, dtype=np.longdouble)}, "'w'"),
], ids=["object", "complex", "list-value", "int-key", "not-a-mapping", "longdouble"])
def test_unsupported_entries_refused_before_writing(fmt, state, where, tmp_path):
    with pytest.raises(TypeError, match=f"save_{fmt}: .*{re.escape(where)}"):
        SAVE[fmt](state, tmp_path / "weights.bin")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- interrupted saves
class InterruptedSaveError(Exception):
    pass


def broken(error):
    def fail(*args, **kwargs):
        raise error("interrupted")
    return fail


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("step", ["replace", "fsync", "write"])
@pytest.mark.parametrize("error", [InterruptedSaveError, KeyboardInterrupt])
def test_interrupted_save_keeps_previous_file(fmt, step, error, tmp_path, monkeypatch):
    path, before = written(fmt, tmp_path)
    if step == "write" and fmt == "pt":
        monkeypatch.setattr(torch, "save", broken(error))
    elif step == "write":
        monkeypatch.setattr(safetensors.numpy, "save", broken(error))
    else:
        monkeypatch.setattr(os, step, broken(error))
    with pytest.raises(error):
        SAVE[fmt]({"new": np.ones(3)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["weights.bin"]
    assert path.read_bytes() == before
    assert_state_identical(LOAD[fmt](path), scratch_model("cnn", np.float32, seed=6).state_dict())


def test_partly_written_pt_is_removed(tmp_path, monkeypatch):
    path, before = written("pt", tmp_path)
    real_save = torch.save

    def save_then_fail(obj, file):
        real_save(obj, file)
        raise InterruptedSaveError("disk full")

    monkeypatch.setattr(torch, "save", save_then_fail)
    with pytest.raises(InterruptedSaveError):
        save_pt({"new": np.ones(3)}, path)
    assert os.listdir(tmp_path) == ["weights.bin"] and path.read_bytes() == before


# ----------------------------------------------------------------------------- optional package
@pytest.mark.parametrize("call", [lambda path: save_safetensors({"w": np.ones(2)}, path), load_safetensors],
                         ids=["save", "load"])
def test_missing_safetensors_package_says_how_to_install(call, tmp_path, monkeypatch):
    save_safetensors({"w": np.ones(2)}, tmp_path / "weights.bin")
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=re.escape(INSTALL_HINT)):
        call(tmp_path / "weights.bin")
