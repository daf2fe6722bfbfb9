"""``torch_ref.exchange`` on untrusted files: damaged and foreign files are refused naming the file, an unsafe
pickle runs nothing, and ``.pt`` content that is not a state dict is refused (a training checkpoint gives its
state dict)."""

import re
from pathlib import Path

import numpy as np
import pytest
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

from torch_ref import load_pt, load_safetensors
from torch_ref.exchange import KEY_ORDER

from .exchange_helpers import FORMATS, LOAD, NAMED, assert_state_identical, torch_model, written


# ----------------------------------------------------------------------------- damaged and foreign files
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


def test_a_safetensors_header_nested_100000_deep_is_a_value_error(tmp_path):
    header = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path = tmp_path / "deep.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    message = "deep.safetensors' is corrupt or not a safetensors file: its header is not JSON"
    with pytest.raises(ValueError, match=re.escape(message)):
        load_safetensors(path)
