"""``save`` and ``load``: checkpoints of state dicts as a single ``.npz``, without pickle.

The archive holds every array as its own entry (``a0``, ``a1``, ...) and a JSON manifest, stored
as a uint8 array under ``__manifest__``, that describes the structure around them: dicts (with
their key types and order), lists, tuples, arrays, NumPy scalars and the Python values
``None``/``bool``/``int``/``float``/``str``. Loading uses ``np.load(path, allow_pickle=False)``,
so a file can never run code; object arrays are refused on both sides.

Writes are atomic: the archive goes to a temporary file in the target's directory, is flushed and
fsynced, then ``os.replace``-d over the target, so an interrupted save keeps the old checkpoint
(``atomic_write`` says what happens with links, devices, file modes and a killed process).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import stat
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any, cast

import numpy as np

__all__ = ["load", "save"]

MANIFEST = "__manifest__"
FORMAT = "scratch.save"
VERSION = 1
_SCALARS = {type(None): "none", bool: "bool", int: "int", float: "float", str: "str"}
# What a damaged archive may raise while being read: BadZipFile is not an OSError or ValueError, and zipfile
# meets flipped flags of its central directory with NotImplementedError or RuntimeError ("is encrypted").
# RecursionError: a manifest nested deeper than the interpreter's stack.
_READ_ERRORS = (ValueError, KeyError, IndexError, TypeError, EOFError, zipfile.BadZipFile, OSError,
                NotImplementedError, RuntimeError)
#: structures nested deeper than this are refused when saved (a structure that contains itself never ends)
MAX_DEPTH = 200


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of arrays and numbers) to ``path``.

    The file name is used as given (no ``.npz`` is appended). Raises TypeError naming the key path
    of any value that cannot be stored without pickle (object arrays, sets, arbitrary objects).
    """
    arrays: dict[str, np.ndarray] = {}
    root = _encode(obj, "obj", arrays, 0)
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "root": root}).encode("utf-8")
    arrays[MANIFEST] = np.frombuffer(manifest, dtype=np.uint8)
    # the cast: NumPy's stub types **kwds as if a name could be savez's own allow_pickle
    atomic_write(path, lambda file: np.savez(file, **cast("dict[str, Any]", arrays)))


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> None:
    """``write(file)`` into a temporary file beside ``path``, fsync it, then rename it over ``path``, so a
    failed or interrupted write leaves the previous file intact.

    - A symlink is followed: its target is replaced and the link kept, as torch.save writes through it.
    - An existing file keeps its mode (and its owner, where the process may set it); a new one gets the
      umask's mode.
    - A character or block device (``/dev/null``) is written through, never renamed over; a FIFO or socket
      is refused (ValueError), since opening one for writing waits for a reader.
    - An exception during the write removes the temporary file; a process killed mid-write leaves it
      behind (``.<name>.<random>.tmp`` beside the target) and the target untouched.
    - OS errors (a full disk, a directory where files cannot be created) name the path.
    """
    path = os.path.realpath(os.fspath(path))
    existing = _stat(path)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        return _write_through(path, existing, write)
    directory = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as error:
        raise OSError(error.errno, f"cannot save {path!r}: cannot create a temporary file in {directory!r}: "
                                   f"{error.strerror} (a save writes one beside the target, then renames it over "
                                   "the target)") from error
    try:
        with os.fdopen(fd, "wb") as file:
            _copy_mode(fd, existing)
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(error, OSError) and error.filename is None:
            raise OSError(error.errno, error.strerror or str(error), path) from error
        raise
    _fsync_directory(directory)


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _copy_mode(fd: int, existing: os.stat_result | None) -> None:
    """The replaced file's mode and owner, or (a new file) an ordinary file's mode under the umask;
    mkstemp makes the file private."""
    if existing is None:
        os.fchmod(fd, 0o666 & ~_umask())
        return
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    if (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(PermissionError):  # only root may give a file away; else the saver owns it
            os.fchown(fd, existing.st_uid, existing.st_gid)


def _write_through(path: str, existing: os.stat_result, write: Callable[[IO[bytes]], Any]) -> None:
    """Write into a device in place; refuse a directory, FIFO or socket."""
    mode = existing.st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", path)
    if not (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)):
        kind = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "special file"
        raise ValueError(f"cannot save to {path!r}: it is a {kind}, not a regular file or a device")
    buffer = io.BytesIO()  # the writers seek and tell, which a device does not keep
    write(buffer)
    try:
        with open(path, "wb") as file:
            file.write(buffer.getbuffer())
    except OSError as error:
        if error.filename is None:
            raise OSError(error.errno, error.strerror or str(error), path) from error
        raise


def load(path: str | os.PathLike[str]) -> Any:
    """Read back what ``save`` wrote to ``path``, with the same types, dtypes and key order.

    A missing file raises the usual OSError; a truncated, corrupt or foreign file (or one holding
    an object array) raises ValueError naming the file.
    """
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _READ_ERRORS as error:
        raise ValueError(f"{path!r} is not a readable scratch checkpoint: {error}") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path!r} is not a scratch checkpoint: it is a single .npy array, not an .npz archive")
    with archive:
        try:
            return _decode_archive(archive)
        except _READ_ERRORS as error:
            raise ValueError(f"{path!r} is truncated, corrupt or not a scratch checkpoint: {error}") from error


def _decode_archive(archive: np.lib.npyio.NpzFile) -> Any:
    """Read the manifest and every array of an open archive, then rebuild the saved object."""
    if MANIFEST not in archive.files:
        raise ValueError("no manifest entry")
    manifest = json.loads(_read_entry(archive, MANIFEST).tobytes().decode("utf-8"))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(f"unknown manifest header (expected format {FORMAT!r} version {VERSION})")
    arrays = {name: _read_entry(archive, name) for name in archive.files if name != MANIFEST}
    return _decode(manifest["root"], arrays)


def _read_entry(archive: np.lib.npyio.NpzFile, name: str) -> np.ndarray:
    """One array of the archive, once the size its header declares is known to fit in the bytes the entry
    holds: a header claiming (10**12,) in a 300-byte file must not allocate terabytes first."""
    zf = cast("zipfile.ZipFile", archive.zip)  # None only once the archive is closed
    info = zf.getinfo(f"{name}.npy")
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(member)
    declared = math.prod(shape) * dtype.itemsize
    if declared > info.file_size:
        raise ValueError(f"entry {name!r} declares shape {shape} of {dtype} ({declared} bytes) but holds only "
                         f"{info.file_size} bytes")
    return archive[name]


def _encode(value: Any, where: str, arrays: dict[str, np.ndarray], depth: int) -> dict[str, Any]:
    """The manifest node for ``value`` (at key path ``where``, ``depth`` containers down); its arrays go
    into ``arrays``."""
    if depth > MAX_DEPTH:
        shown = where if len(where) < 120 else f"{where[:60]}...{where[-50:]}"
        raise ValueError(f"cannot save {shown}: nested more than {MAX_DEPTH} containers deep (a structure that "
                         "contains itself?)")
    kind = type(value)
    if kind in _SCALARS:
        return {"t": _SCALARS[kind], "v": value}
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError(f"cannot save {where}: arrays of dtype {array.dtype} need pickle")
        name = f"a{len(arrays)}"
        arrays[name] = array
        return {"t": "array" if kind is np.ndarray else "npscalar", "v": name}
    if kind in (list, tuple):
        items: list[Any] = [_encode(item, f"{where}[{i}]", arrays, depth + 1) for i, item in enumerate(value)]
        return {"t": kind.__name__, "v": items}
    if kind in (dict, OrderedDict):
        items = []
        for key, item in value.items():
            if type(key) not in (str, int):
                raise TypeError(f"cannot save {where}: key {key!r} is a {type(key).__name__}, not str or int")
            items.append([type(key).__name__, key, _encode(item, f"{where}[{key!r}]", arrays, depth + 1)])
        return {"t": "odict" if kind is OrderedDict else "dict", "v": items}
    raise TypeError(f"cannot save {where}: values of type {kind.__name__} are not supported "
                    "(use arrays, numbers, str, None, lists, tuples and dicts)")


def _decode(node: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
    """Rebuild the value a manifest ``node`` describes, taking its arrays from ``arrays``."""
    kind, value = node["t"], node["v"]
    if kind in ("none", "bool", "int", "float", "str"):
        expected: Any = {"none": type(None), "bool": bool, "int": int, "float": (float, int), "str": str}[kind]
        if not isinstance(value, expected) or (kind == "int" and isinstance(value, bool)):
            raise ValueError(f"manifest value {value!r} is not a {kind}")
        return float(value) if kind == "float" else value
    if kind == "array":
        return arrays[value]
    if kind == "npscalar":
        return arrays[value][()]
    if kind in ("list", "tuple"):
        items = [_decode(item, arrays) for item in value]
        return items if kind == "list" else tuple(items)
    if kind in ("dict", "odict"):
        pairs = [(_decode_key(key_type, key), _decode(item, arrays)) for key_type, key, item in value]
        return OrderedDict(pairs) if kind == "odict" else dict(pairs)
    raise ValueError(f"unknown manifest node type {kind!r}")


def _decode_key(key_type: str, key: Any) -> str | int:
    """A dict key back in its saved type (str or int), checked against the manifest's claim."""
    expected = {"str": str, "int": int}.get(key_type)
    if expected is None or type(key) is not expected:
        raise ValueError(f"manifest key {key!r} is not a {key_type}")
    return cast("str | int", key)


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it, so it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); platforms that cannot open directories skip it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
