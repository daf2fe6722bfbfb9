"""``scratch.save``/``scratch.load``: exact round trips of state dicts, atomic writes, and clear errors
for corrupt files and values that would need pickle."""

import io
import math
import os
import re
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import scratch
from scratch import nn, optim
from scratch.serialization import MANIFEST

DTYPES = [np.float32, np.float64]
NAMED = re.escape("ckpt.npz")  # every load error names the file


def assert_identical(actual, expected, where="obj"):
    """Same types (dict vs OrderedDict, tuple vs list, array vs scalar), key order, dtypes and values."""
    assert type(actual) is type(expected), f"{where}: {type(actual)} != {type(expected)}"
    if isinstance(expected, dict):
        assert [(type(k), k) for k in actual] == [(type(k), k) for k in expected], f"{where}: keys differ"
        for key in expected:
            assert_identical(actual[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), f"{where}: lengths differ"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_identical(a, e, f"{where}[{i}]")
    elif isinstance(expected, (np.ndarray, np.generic)):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, f"{where}: dtype/shape differ"
        assert np.array_equal(actual, expected, equal_nan=expected.dtype.kind in "fc"), f"{where}: values differ"
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual), where
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def round_trip(obj, tmp_path):
    path = tmp_path / "checkpoint.npz"
    scratch.save(obj, path)
    return scratch.load(path)


def make_model(dtype, seed=0):
    scratch.manual_seed(seed)
    return nn.Sequential(nn.Embedding(10, 4, dtype=dtype), nn.Linear(4, 3, dtype=dtype), nn.BatchNorm1d(3, dtype=dtype))


def train(model, optimizer, rng, steps):
    """A few training steps with random indices and a random upstream gradient."""
    for _ in range(steps):
        out = model(rng.integers(0, 10, size=8))
        optimizer.zero_grad()
        model.backward(rng.standard_normal(out.shape).astype(out.dtype))
        optimizer.step()


OPTIMIZERS = {
    "Adam": lambda params: optim.Adam([{"params": params[:2]}, {"params": params[2:], "betas": (0.5, 0.9)}],
                                      lr=0.01, amsgrad=True, weight_decay=0.1),
    "SGD": lambda params: optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
}

NESTED = {
    "a": {"b": np.arange(6, dtype=np.int64).reshape(2, 3), 3: np.float32(2.5), -1: np.array(1.5)},
    "scalars": [1, 2.0, float("nan"), float("inf"), True, None, "text", 10**30],
    "tuple": (0.9, 0.999, (np.array([True, False]), [])),
    "empty": {}, "odict": OrderedDict([("z", 1), ("a", np.zeros((0, 2), dtype=np.float16))]),
    "kinds": [np.array([1 + 2j]), np.array(["ab", "c"]), np.array([7], dtype=np.uint8), np.array(np.nan)],
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
}


@pytest.mark.parametrize("dtype", DTYPES)
def test_model_state_dict_round_trip(dtype, tmp_path):
    model = make_model(dtype)
    train(model, optim.SGD(model.parameters(), lr=0.1), np.random.default_rng(0), 3)
    state = model.state_dict()
    loaded = round_trip(state, tmp_path)
    assert_identical(loaded, state)
    assert loaded["2.num_batches_tracked"].dtype == np.int64 and loaded["2.num_batches_tracked"] == 3
    fresh = make_model(dtype, seed=1)
    fresh.load_state_dict(loaded)
    assert_identical(fresh.state_dict(), state)


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizer_checkpoint_continues_identically(name, dtype, tmp_path):
    model, rng = make_model(dtype), np.random.default_rng(1)
    optimizer = OPTIMIZERS[name](list(model.parameters()))
    train(model, optimizer, rng, 5)
    scratch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt")
    checkpoint = scratch.load(tmp_path / "ckpt")
    assert_identical(checkpoint["optimizer"], optimizer.state_dict())
    restored = make_model(dtype, seed=2)
    restored.load_state_dict(checkpoint["model"])
    restored_optimizer = OPTIMIZERS[name](list(restored.parameters()))
    restored_optimizer.load_state_dict(checkpoint["optimizer"])
    rng_a, rng_b = np.random.default_rng(2), np.random.default_rng(2)
    train(model, optimizer, rng_a, 5)
    train(restored, restored_optimizer, rng_b, 5)
    assert_identical(restored.state_dict(), model.state_dict())
    assert_identical(restored_optimizer.state_dict(), optimizer.state_dict())


def test_nested_round_trip(tmp_path):
    assert_identical(round_trip(NESTED, tmp_path), NESTED)


@pytest.mark.parametrize("obj", [np.float64(1.0), np.array(1.0), 1.0, 1, [], (), None, "s"], ids=repr)
def test_top_level_values_round_trip(obj, tmp_path):
    assert_identical(round_trip(obj, tmp_path), obj)


def test_file_loads_with_plain_numpy(tmp_path):
    path = tmp_path / "plain.ckpt"
    scratch.save(NESTED, path)
    assert sorted(os.listdir(tmp_path)) == ["plain.ckpt"]
    with np.load(path, allow_pickle=False) as archive:
        assert archive[MANIFEST].dtype == np.uint8
        arrays = [archive[name] for name in archive.files if name != MANIFEST]
    assert any(np.array_equal(a, NESTED["a"]["b"]) for a in arrays)


@pytest.mark.parametrize("value, where", [
    ({"a": {"b": np.array([1, "x"], dtype=object)}}, "obj['a']['b']"),
    ({"state": {0: {"s": {1, 2}}}}, "obj['state'][0]['s']"),
    ([1, object()], "obj[1]"),
    ({"k": [np.float64(1), {(1, 2): 3}]}, "obj['k'][1]"),
    ({1.5: 1}, "obj"),
])
def test_unsupported_values_refused(value, where, tmp_path):
    with pytest.raises(TypeError, match=f"cannot save {re.escape(where)}:"):
        scratch.save(value, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


class InterruptedSaveError(Exception):
    pass


@pytest.mark.parametrize("error", [InterruptedSaveError, KeyboardInterrupt])
def test_interrupted_save_keeps_previous_checkpoint(error, tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    scratch.save(NESTED, path)
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 partial archive")
        raise error("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(error):
        scratch.save({"new": np.ones(3)}, path)
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert path.read_bytes() == before
    monkeypatch.undo()
    assert_identical(scratch.load(path), NESTED)


def saved_bytes(tmp_path):
    path = tmp_path / "ckpt.npz"
    scratch.save({"w": np.arange(64, dtype=np.float64)}, path)
    return path, path.read_bytes()


@pytest.mark.parametrize("keep", [0, 10, 0.5, -10, -1])
def test_truncated_file_refused(keep, tmp_path):
    path, data = saved_bytes(tmp_path)
    path.write_bytes(data[:int(len(data) * keep) if isinstance(keep, float) else keep])
    with pytest.raises(ValueError, match=NAMED):
        scratch.load(path)


@pytest.mark.parametrize("what", ["array", "manifest"])
def test_flipped_bytes_refused(what, tmp_path):
    path, data = saved_bytes(tmp_path)
    target = np.arange(64, dtype=np.float64).tobytes()[80:96] if what == "array" else b'"format"'
    at = data.index(target) + 3
    path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    with pytest.raises(ValueError, match=NAMED):
        scratch.load(path)


def write(path, numpy_save, *args, **kwargs):
    """Call ``np.save``/``np.savez`` on an open file, so NumPy adds no extension to ``path``."""
    with open(path, "wb") as file:
        numpy_save(file, *args, **kwargs)


@pytest.mark.parametrize("make", [
    lambda path: path.write_text("not an archive at all\n"),
    lambda path: write(path, np.save, np.ones(3)),
    lambda path: write(path, np.savez, w=np.ones(3)),
    lambda path: write(path, np.savez, **{MANIFEST: np.frombuffer(b"{not json", dtype=np.uint8)}),
    lambda path: write(path, np.savez, **{MANIFEST: np.frombuffer(b'{"format": "other"}', dtype=np.uint8)}),
], ids=["text", "npy", "no-manifest", "bad-json", "foreign-manifest"])
def test_foreign_or_corrupt_file_refused(make, tmp_path):
    path = tmp_path / "ckpt.npz"
    make(path)
    with pytest.raises(ValueError, match=NAMED):
        scratch.load(path)


def test_file_with_object_array_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    scratch.save({"w": np.ones(2)}, path)
    with np.load(path) as archive:
        entries = {name: archive[name] for name in archive.files}
    entries["a0"] = np.array([1, "x"], dtype=object)  # only pickle can store this
    write(path, np.savez, **entries)
    with pytest.raises(ValueError, match=NAMED):
        scratch.load(path)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape("nowhere.npz")):
        scratch.load(tmp_path / "nowhere.npz")


def test_saved_file_has_an_ordinary_mode(tmp_path):
    mask = os.umask(0o027)
    try:
        scratch.save({"w": np.ones(2)}, tmp_path / "ckpt.npz")
    finally:
        os.umask(mask)
    assert (tmp_path / "ckpt.npz").stat().st_mode & 0o777 == 0o640


def _write_npz(path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(f"{name}.npy", data)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _manifest(root: str) -> bytes:
    text = '{"format": "scratch.save", "version": 1, "root": ' + root + "}"
    return _npy(np.frombuffer(text.encode(), dtype=np.uint8))


def test_every_flip_of_the_central_directory_is_a_value_error_naming_the_file(tmp_path):
    """zipfile meets some flipped flags with NotImplementedError ("zip file version 8.7", "strong encryption")
    or RuntimeError ("is encrypted"); each must reach the user as ValueError naming the file."""
    path, damaged = tmp_path / "ckpt.npz", tmp_path / "damaged.npz"
    scratch.save({"w": np.ones(3)}, path)
    data = path.read_bytes()
    start = data.rfind(b"PK\x01\x02")
    for offset in range(start, len(data)):
        for value in (0x00, 0x41, 0xFF):
            damaged.write_bytes(data[:offset] + bytes([value]) + data[offset + 1:])
            try:
                scratch.load(damaged)
            except ValueError as error:
                assert str(damaged) in str(error)


def test_a_declared_shape_larger_than_the_file_is_refused_before_allocating(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    path = tmp_path / "huge.npz"
    _write_npz(path, {"a0": header.getvalue() + bytes(16), "__manifest__": _manifest('{"t": "array", "v": "a0"}')})
    with pytest.raises(ValueError, match=r"huge.npz.*entry 'a0' declares shape \(1000000000000,\) of float64"):
        scratch.load(path)


def test_a_manifest_nested_50000_deep_is_a_value_error(tmp_path):
    path = tmp_path / "deep.npz"
    root = '{"t": "list", "v": [' * 50_000 + '{"t": "none", "v": null}' + "]}" * 50_000
    _write_npz(path, {"__manifest__": _manifest(root)})
    with pytest.raises(ValueError, match=r"deep\.npz' is truncated, corrupt or not a scratch checkpoint"):
        scratch.load(path)


def _self_referential() -> list:
    loop: list = []
    loop.append(loop)
    return loop


def _nested(depth: int) -> dict:
    root = inner = []
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return {"model": root}


@pytest.mark.parametrize("obj, where", [(_self_referential(), r"obj\[0\]\[0\]"),
                                        (_nested(5000), r"obj\['model'\]\[0\]")], ids=["self-referential", "5000 deep"])
def test_saving_a_structure_too_deep_names_its_key_path(obj, where, tmp_path):
    with pytest.raises(ValueError, match=f"cannot save {where}.*nested more than 200 containers deep"):
        scratch.save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []
