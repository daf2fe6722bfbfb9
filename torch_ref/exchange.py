"""Weight exchange with torch users: safetensors files and torch ``.pt`` checkpoints, as NumPy state dicts.

- ``save_safetensors`` / ``load_safetensors``: the safetensors format (the optional ``safetensors``
  package, ``pip install -e '.[safetensors]'``). A scratch model's file loads into its torch twin with
  ``twin.load_state_dict(safetensors.torch.load_file(path))``, and a file torch wrote loads into
  scratch with ``model.load_state_dict(load_safetensors(path))``. safetensors sorts tensors by dtype
  and name, so ``save_safetensors`` also records the state dict's key order in the header metadata
  (entry ``scratch.key_order``) and ``load_safetensors`` gives it back; a file without that entry
  comes back in the order its header lists the tensors.
- ``load_pt`` / ``save_pt``: torch's own format. Reading uses ``torch.load(weights_only=True)`` only,
  so a file that would run code when unpickled is refused and nothing in it is executed.

Supported dtypes are those NumPy, torch and safetensors share: bool, (u)int8/16/32/64 and
float16/32/64. Writes are atomic (temporary file in the target's directory, fsync, ``os.replace``):
an interrupted save leaves the previous file intact and no temporary file behind. Every error about
a file's content names the file: ValueError for a truncated, corrupt or refused file, TypeError for
an entry of the wrong type or dtype.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import ItemsView, Mapping
from types import ModuleType
from typing import Any

import numpy as np
import torch

from scratch import nn
from scratch.serialization import atomic_write as _atomic_write

from .arrays import to_numpy

__all__ = ["load_pt", "load_safetensors", "save_pt", "save_safetensors"]

StateLike = nn.Module | Mapping[str, Any]
PathLike = str | os.PathLike[str]

KEY_ORDER = "scratch.key_order"  # header metadata entry holding the state dict's key order (JSON list)
INSTALL_HINT = "pip install -e '.[safetensors]'"
STATE_DICT_ENTRIES = ("state_dict", "model_state_dict")  # where training scripts usually keep the weights
# Header dtype names of safetensors that NumPy can hold.
SAFETENSORS_DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16,
                      "U32": np.uint32, "I32": np.int32, "U64": np.uint64, "I64": np.int64,
                      "F16": np.float16, "F32": np.float32, "F64": np.float64}
NUMPY_DTYPES = {np.dtype(dtype) for dtype in SAFETENSORS_DTYPES.values()}
TORCH_TO_NUMPY = {torch.bool: np.bool_, torch.uint8: np.uint8, torch.int8: np.int8, torch.uint16: np.uint16,
                  torch.int16: np.int16, torch.uint32: np.uint32, torch.int32: np.int32, torch.uint64: np.uint64,
                  torch.int64: np.int64, torch.float16: np.float16, torch.float32: np.float32,
                  torch.float64: np.float64}
# What torch.load may raise on a damaged file; it is already open, so an OSError (a bad seek) is damage too.
_TORCH_LOAD_ERRORS = (RuntimeError, EOFError, ValueError, KeyError, IndexError, TypeError, AttributeError, OSError,
                      struct.error, zipfile.BadZipFile)
_HEADER_LIMIT = 100_000_000  # safetensors' own cap on the JSON header's size


# ----------------------------------------------------------------------------- safetensors
def save_safetensors(state_dict_or_module: StateLike, path: PathLike,
                     metadata: Mapping[str, str] | None = None) -> None:
    """Write a scratch model's state dict (a ``Module``, or a mapping of str to arrays) as safetensors.

    ``metadata`` (str to str) goes into the header as safetensors' ``__metadata__``, next to the key
    order entry ``scratch.key_order``, which it may not use. The write is atomic.
    """
    arrays = _state_arrays(state_dict_or_module, "save_safetensors")
    header = _header_metadata(metadata, list(arrays))
    safetensors_numpy = _import_safetensors().numpy
    data = safetensors_numpy.save(dict(arrays), metadata=header)
    _atomic_write(path, lambda file: file.write(data))


def load_safetensors(path: PathLike) -> OrderedDict[str, np.ndarray]:
    """Read a safetensors file as an ordered dict of NumPy arrays, with dtypes and key order exact.

    A missing file or a directory raises the usual OSError; a truncated or corrupt file raises
    ValueError naming it; a tensor whose dtype NumPy lacks (bfloat16, float8) raises TypeError naming it.
    The file's free-form metadata stays readable with ``safetensors.safe_open(path, "np").metadata()``.
    """
    safetensors = _import_safetensors()
    path = os.fspath(path)
    header = _read_header(path)
    try:
        with safetensors.safe_open(path, framework="np") as reader:
            names = _check_header(header, set(reader.keys()), path)
            return OrderedDict((name, np.array(reader.get_tensor(name), copy=True)) for name in names)
    except safetensors.SafetensorError as error:
        raise ValueError(f"{path!r} is truncated, corrupt or not a safetensors file: {error}") from error


def _import_safetensors() -> ModuleType:
    """The ``safetensors`` package (with its ``numpy`` module), or an ImportError saying how to install it."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as error:
        raise ImportError("torch_ref's safetensors exchange needs the optional 'safetensors' package: "
                          f"{INSTALL_HINT}") from error
    return safetensors


def _header_metadata(metadata: Mapping[str, str] | None, keys: list[str]) -> dict[str, str]:
    """The header's ``__metadata__``: the user's entries (checked to be str to str) and the key order."""
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, Mapping):
        raise TypeError(f"save_safetensors: metadata must be a mapping of str to str, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"save_safetensors: metadata must map str to str, got {key!r}: {type(value).__name__}")
    if KEY_ORDER in metadata:
        raise ValueError(f"save_safetensors: metadata entry {KEY_ORDER!r} is reserved for the key order")
    return {**metadata, KEY_ORDER: json.dumps(keys)}


def _read_header(path: str) -> dict[str, Any]:
    """The JSON header of a safetensors file, in file order (the open raises OSError naming the file)."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        prefix = file.read(8)
        length = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
        if not 0 < length <= min(size - 8, _HEADER_LIMIT):
            raise ValueError(f"{path!r} is truncated, corrupt or not a safetensors file: "
                             f"its 8-byte header length does not fit its {size} bytes")
        raw = file.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError(f"{path!r} is corrupt or not a safetensors file: its header is not JSON ({error})") from error
    if not isinstance(header, dict):
        raise ValueError(f"{path!r} is corrupt or not a safetensors file: its header is not a JSON object")
    return header


def _check_header(header: dict[str, Any], names: set[str], path: str) -> list[str]:
    """The tensor names in the saved key order, once every dtype is known to NumPy."""
    listed = [name for name in header if name != "__metadata__"]
    if set(listed) != names:
        raise ValueError(f"{path!r} is corrupt: its header lists tensors {sorted(listed)}, "
                         f"safetensors read {sorted(names)}")
    for name in listed:
        dtype = header[name].get("dtype") if isinstance(header[name], dict) else None
        if dtype not in SAFETENSORS_DTYPES:
            raise TypeError(f"{path!r}: tensor {name!r} has dtype {dtype}, which NumPy cannot hold; "
                            "convert it in torch before saving (e.g. tensor.float())")
    metadata = header.get("__metadata__") or {}
    if KEY_ORDER not in metadata:
        return listed
    try:
        order = json.loads(metadata[KEY_ORDER])
    except (TypeError, ValueError):
        order = None
    if not isinstance(order, list) or len(order) != len(names) or set(order) != names:
        raise ValueError(f"{path!r} is corrupt: its {KEY_ORDER!r} entry does not list exactly its tensors")
    return order


# ----------------------------------------------------------------------------- torch .pt
def save_pt(state_dict_or_module: StateLike, path: PathLike) -> None:
    """``torch.save`` a scratch model's state dict as an ordered dict of CPU tensors, atomically.

    The file loads with ``torch.load(path, weights_only=True)`` and ``twin.load_state_dict``.
    """
    arrays = _state_arrays(state_dict_or_module, "save_pt")
    tensors = OrderedDict((key, torch.from_numpy(np.array(array, copy=True))) for key, array in arrays.items())
    _atomic_write(path, lambda file: _torch_save(tensors, file, os.fspath(path)))


def _torch_save(tensors: OrderedDict[str, torch.Tensor], file: Any, path: str) -> None:
    """torch.save, whose failed writes (a full disk) are RuntimeErrors naming a line of its C++ source,
    as an OSError naming the path."""
    try:
        torch.save(tensors, file)
    except RuntimeError as error:
        raise OSError(f"cannot write {path!r}: torch.save failed ({error})") from error


def load_pt(path: PathLike) -> OrderedDict[str, np.ndarray]:
    """Read a torch checkpoint's state dict as an ordered dict of NumPy arrays (key order and dtypes exact).

    Uses ``torch.load(file, map_location='cpu', weights_only=True)`` and nothing else, so a file that
    would run code when unpickled is refused with a ValueError naming the file, and nothing runs.
    Accepted content: a state dict (a dict of str to tensors), or a training checkpoint: a dict with
    exactly one of the entries ``'state_dict'`` or ``'model_state_dict'`` holding the state dict (its
    other entries, such as an optimizer state or the epoch, are ignored). Any other entry that is not a
    tensor raises TypeError naming its key, as does a tensor whose dtype NumPy lacks (bfloat16, complex,
    float8) or that is not dense. A truncated or corrupt file raises ValueError naming the file.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:  # a missing file or a directory raises here, naming the path
        try:
            content = torch.load(file, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as error:
            raise ValueError(f"{path!r} was refused by torch.load(weights_only=True): {_refusal_reason(error)}. "
                             "It is corrupt, or holds objects whose unpickling could run code, "
                             "which load_pt never does") from error
        except _TORCH_LOAD_ERRORS as error:
            raise ValueError(f"{path!r} is truncated, corrupt or not a torch checkpoint: {error}") from error
    state = _find_state_dict(content, path)
    return OrderedDict((key, _tensor_to_numpy(key, value, path)) for key, value in state.items())


def _refusal_reason(error: Exception) -> str:
    """The line of torch's weights_only message that says what was refused (the global it met)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if "GLOBAL" in line or "Unsupported" in line or "unsupported" in line:
            return line.rstrip(".")
    return lines[0].rstrip(".") if lines else type(error).__name__


def _find_state_dict(content: Any, path: str) -> Mapping[Any, Any]:
    """The state dict inside what ``torch.load`` returned (see ``load_pt`` for what is accepted)."""
    if not isinstance(content, Mapping):
        raise TypeError(f"{path!r} holds a {type(content).__name__}, not a state dict (a dict of str to tensors)")
    if all(isinstance(value, torch.Tensor) for value in content.values()):
        return content
    entries = [entry for entry in STATE_DICT_ENTRIES if entry in content]
    if len(entries) > 1:
        raise ValueError(f"{path!r} holds both 'state_dict' and 'model_state_dict'; load_pt cannot tell which to read")
    if entries and isinstance(content[entries[0]], Mapping):
        return content[entries[0]]
    return content  # _tensor_to_numpy names the first entry that is not a tensor


def _tensor_to_numpy(key: Any, value: Any, path: str) -> np.ndarray:
    """A dense CPU tensor as a NumPy array it does not share memory with; anything else is a TypeError."""
    if not isinstance(key, str):
        raise TypeError(f"{path!r}: state dict key {key!r} is a {type(key).__name__}, not a str")
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{path!r}: entry {key!r} is a {type(value).__name__}, not a tensor; "
                        "load_pt reads state dicts of tensors only")
    if value.layout != torch.strided or value.is_quantized:
        raise TypeError(f"{path!r}: tensor {key!r} is not a dense tensor (layout {value.layout}); "
                        "convert it in torch first (e.g. tensor.to_dense())")
    if value.dtype not in TORCH_TO_NUMPY:
        raise TypeError(f"{path!r}: tensor {key!r} has dtype {value.dtype}, which NumPy cannot hold; "
                        "convert it in torch before saving (e.g. tensor.float())")
    return to_numpy(value, copy=True)


# ----------------------------------------------------------------------------- shared
def _state_arrays(state_dict_or_module: StateLike, where: str) -> OrderedDict[str, np.ndarray]:
    """The state dict to write, each value a C-contiguous, native-byte-order array of a supported dtype."""
    if isinstance(state_dict_or_module, nn.Module):
        items: ItemsView[str, Any] = state_dict_or_module.state_dict().items()
    elif isinstance(state_dict_or_module, Mapping):
        items = state_dict_or_module.items()
    else:
        raise TypeError(f"{where}: expected a scratch Module or a mapping of str to arrays, "
                        f"got {type(state_dict_or_module).__name__}")
    arrays: OrderedDict[str, np.ndarray] = OrderedDict()
    for key, value in items:
        if not isinstance(key, str):
            raise TypeError(f"{where}: state dict keys must be str, got {key!r} ({type(key).__name__})")
        if not isinstance(value, (np.ndarray, np.generic, nn.Parameter)):
            raise TypeError(f"{where}: entry {key!r} is a {type(value).__name__}, expected a NumPy array")
        array = np.asarray(value)
        native = array.dtype.newbyteorder("=")  # a big-endian array is written in the formats' little-endian
        if native not in NUMPY_DTYPES:
            raise TypeError(f"{where}: entry {key!r} has dtype {array.dtype}; expected one of bool, "
                            "(u)int8/16/32/64 or float16/32/64")
        arrays[key] = np.asarray(array, dtype=native, order="C")
    return arrays
