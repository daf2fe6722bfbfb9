"""``torch_ref.exchange``: weights go between scratch and torch through safetensors and ``.pt`` files with
nothing lost (values, dtypes, key order), damaged files are refused naming the file, an unsafe pickle
runs nothing, and an interrupted save keeps the previous file."""

import os
import re
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

import scratch
from scratch import nn
from torch_ref import from_torch, load_pt, load_safetensors, save_pt, save_safetensors, to_torch
from torch_ref.arrays import leaves
from torch_ref.convert import TORCH_DTYPES
from torch_ref.exchange import INSTALL_HINT, KEY_ORDER
from torch_ref.twins import build_torch

DTYPES = [np.float32, np.float64]
FORMATS = ["safetensors", "pt"]
SAVE = {"safetensors": save_safetensors, "pt": save_pt}
LOAD = {"safetensors": load_safetensors, "pt": load_pt}
TORCH_SAVE = {"safetensors": safetensors.torch.save_file, "pt": torch.save}
TORCH_LOAD = {"safetensors": safetensors.torch.load_file,
              "pt": lambda path: torch.load(path, map_location="cpu", weights_only=True)}
NAMED = re.escape("weights.bin")  # every error about a file's content names the file


# ----------------------------------------------------------------------------- models
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


# ----------------------------------------------------------------------------- damaged and foreign files
def written(fmt, tmp_path):
    path = tmp_path / "weights.bin"
    SAVE[fmt](scratch_model("cnn", np.float32, seed=6), path)
    return path, path.read_bytes()


def assert_refused(fmt, path, error=ValueError):
    with pytest.raises(error, match=NAMED):
        LOAD[fmt](path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_file_refused(fmt, tmp_path):
    path, data = written(fmt, tmp_path)
    n = len(data)
    for keep in sorted({*range(0, n, n // 150), 1, 4, 8, 9, n // 2, n - 22, n - 8, n - 1}):
        path.write_bytes(data[:keep])
        assert_refused(fmt, path)


def header_of(data):
    return data[8:8 + int.from_bytes(data[:8], "little")]


@pytest.mark.parametrize("target, offset", [
    (None, 0), (None, 7), (b"{", 0), (b'"dtype":"F32"', 10), (b'"data_offsets":[', 16), (b'"0.bias":{', 3),
    (b'"__metadata__"', 4), (b"}", 0),
], ids=["length-low", "length-high", "brace", "dtype", "offset", "tensor-name", "metadata", "end"])
def test_flipped_safetensors_header_byte_refused(target, offset, tmp_path):
    path, data = written("safetensors", tmp_path)
    at = offset if target is None else 8 + header_of(data).index(target) + offset
    path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    assert_refused("safetensors", path)


def test_every_flipped_safetensors_header_byte_refused(tmp_path):
    path, data = written("safetensors", tmp_path)
    for at in range(8 + len(header_of(data))):
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
        assert_refused("safetensors", path)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")  # torch's note on a flipped header byte
def test_flipped_pt_bytes_give_a_state_dict_or_a_named_error(tmp_path):
    """.pt files carry no checksum that torch checks, so a flip in tensor data goes unnoticed; any
    other outcome than a state dict of arrays or a ValueError/TypeError naming the file is a bug."""
    path, data = written("pt", tmp_path)
    refused = 0
    for at in range(0, len(data), 5):
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
        try:
            state = load_pt(path)
        except (ValueError, TypeError) as error:
            assert "weights.bin" in str(error), error
            refused += 1
        else:
            assert all(isinstance(value, np.ndarray) for value in state.values())
    assert refused > len(data) // 20


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("content", [b"", b"not weights at all\n", b"PK\x03\x04" + bytes(40), bytes(range(256)) * 4],
                         ids=["empty", "text", "zip-start", "binary"])
def test_foreign_file_refused(fmt, content, tmp_path):
    (tmp_path / "weights.bin").write_bytes(content)
    assert_refused(fmt, tmp_path / "weights.bin")


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_format_refused(fmt, tmp_path):
    other = "pt" if fmt == "safetensors" else "safetensors"
    path, _ = written(other, tmp_path)
    assert_refused(fmt, path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_file_and_directory_are_os_errors(fmt, tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape("nowhere.bin")):
        LOAD[fmt](tmp_path / "nowhere.bin")
    (tmp_path / "folder.bin").mkdir()
    with pytest.raises(IsADirectoryError, match=re.escape("folder.bin")):
        LOAD[fmt](tmp_path / "folder.bin")


def test_safetensors_dtype_numpy_lacks_refused(tmp_path):
    path = tmp_path / "weights.bin"
    safetensors.torch.save_file({"w": torch.ones(2), "h": torch.ones(3, dtype=torch.bfloat16)}, path)
    with pytest.raises(TypeError, match=f"{NAMED}.*'h'.*BF16"):
        load_safetensors(path)


def test_safetensors_key_order_entry_must_match(tmp_path):
    path = tmp_path / "weights.bin"
    safetensors.numpy.save_file({"a": np.ones(2), "b": np.ones(1)}, path, metadata={KEY_ORDER: '["a", "c"]'})
    assert_refused("safetensors", path)


# ----------------------------------------------------------------------------- .pt content
def leave_marker(path):
    """The payload of the malicious pickles: proof that the file's code ran."""
    Path(path).write_text("code from the checkpoint ran")


class Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return leave_marker, (self.marker,)


@pytest.mark.parametrize("wrap", [lambda p: p, lambda p: {"w": torch.ones(2), "b": p},
                                  lambda p: {"state_dict": {"w": torch.ones(2)}, "hook": [p]}],
                         ids=["bare", "entry", "beside-state-dict"])
def test_malicious_pickle_refused_and_nothing_runs(wrap, tmp_path):
    marker, path = tmp_path / "marker.txt", tmp_path / "weights.bin"
    torch.save(wrap(Payload(marker)), path)
    with pytest.raises(ValueError, match=f"{NAMED}.*weights_only=True.*leave_marker"):
        load_pt(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the payload is live: an unsafe load does run it
    assert marker.exists()


@pytest.mark.parametrize("content, error, match", [
    ({"w": torch.ones(2), "epoch": 3}, TypeError, "'epoch' is a int, not a tensor"),
    ({"w": torch.ones(2), "nested": {"x": torch.ones(1)}}, TypeError, "'nested' is a dict"),
    ({"w": torch.ones(2, dtype=torch.bfloat16)}, TypeError, "'w' has dtype torch.bfloat16"),
    ({"w": torch.ones(2, dtype=torch.complex64)}, TypeError, "'w' has dtype torch.complex64"),
    ({"w": torch.eye(2).to_sparse()}, TypeError, "'w' is not a dense tensor"),
    ({3: torch.ones(2)}, TypeError, "key 3 is a int"),
    ([torch.ones(2)], TypeError, "holds a list"),
    (torch.ones(2), TypeError, "holds a Tensor"),
    ({"state_dict": {"w": torch.ones(2)}, "model_state_dict": {"w": torch.ones(2)}}, ValueError, "both"),
    ({"state_dict": {"w": torch.ones(2), "step": 1.5}}, TypeError, "'step' is a float"),
], ids=["int-entry", "nested", "bfloat16", "complex", "sparse", "int-key", "list", "bare-tensor", "ambiguous",
        "non-tensor-in-state-dict"])
def test_pt_content_that_is_not_a_state_dict_refused(content, error, match, tmp_path):
    torch.save(content, tmp_path / "weights.bin")
    with pytest.raises(error, match=f"{NAMED}.*{re.escape(match)}"):
        load_pt(tmp_path / "weights.bin")


@pytest.mark.parametrize("entry", ["state_dict", "model_state_dict"])
def test_pt_training_checkpoint_gives_its_state_dict(entry, tmp_path):
    source = torch_model("cnn", np.float64, seed=7)
    optimizer_state = {"state": {0: {"momentum_buffer": torch.ones(4, 2, 3, 3, dtype=torch.float64)}},
                       "param_groups": [{"lr": 0.1, "momentum": 0.9, "nesterov": False, "params": [0, 1]}]}
    checkpoint = {"epoch": 4, entry: source.state_dict(), "optimizer_state_dict": optimizer_state}
    torch.save(checkpoint, tmp_path / "weights.bin")
    assert_state_identical(load_pt(tmp_path / "weights.bin"), source.state_dict())


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


def test_a_safetensors_header_nested_100000_deep_is_a_value_error(tmp_path):
    header = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path = tmp_path / "deep.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    message = "deep.safetensors' is corrupt or not a safetensors file: its header is not JSON"
    with pytest.raises(ValueError, match=re.escape(message)):
        load_safetensors(path)
