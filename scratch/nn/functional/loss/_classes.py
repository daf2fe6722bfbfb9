"""The class axis and class-index targets of cross-entropy and NLL: the input's classes moved last and back,
the labels checked against the class count (and ``ignore_index``), and the input, target and weight checked."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._reduction import check_weight


def classes_last(x: np.ndarray) -> np.ndarray:
    """(C,) -> (1, C); (N, C, d1, ...) -> (N * d1 * ..., C).

    Fast path: a 2-D x is already (N, C) and comes back as itself, skipping ``moveaxis`` and ``reshape``,
    which would only make a view of the same values (their call overhead shows on small batches)."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x[None, :]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def classes_back(x2d: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of ``classes_last`` for an input of ``shape`` (a 2-D input's x2d is itself: no view made)."""
    if len(shape) <= 2:
        return x2d if x2d.shape == shape else x2d.reshape(shape)
    moved = shape[:1] + shape[2:] + shape[1:2]
    return np.moveaxis(x2d.reshape(moved), -1, 1)


_UNSIGNED = {size: np.dtype(f"u{size}") for size in (1, 2, 4, 8)}  # made once: parsing "u8" costs a call


def _all_below(labels: np.ndarray, n_classes: int) -> bool:
    """Whether every label is in [0, n_classes): one ``max`` over the labels read as unsigned integers of their
    width (a negative label reads as at least 2^(bits - 1), beyond any class count), not a ``min`` and a ``max``."""
    if labels.dtype.kind == "i":
        labels = labels.view(_UNSIGNED[labels.dtype.itemsize])
    return bool(np.maximum.reduce(labels, axis=None) < n_classes)  # labels.max(), without its Python wrapper


def class_labels(name: str, target: np.ndarray, n_classes: int, ignore_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat class indices (ignored ones replaced by 0) and the mask of the samples not ignored.

    Fast path, the common case: when ``ignore_index`` is not a class (torch's default -100) and every label
    is in [0, C) (one ``max`` pass, ``_all_below``), no label can be ignored or out of bounds, so the mask is
    all True and the labels need no replacing. It skips the comparison with ``ignore_index``, the bounds
    check and the ``np.where`` copy, and returns what the general path would compute."""
    labels = target if target.ndim == 1 else target.reshape(-1)  # a 1-D target is flat: no view of it made
    if labels.size and not 0 <= ignore_index < n_classes and _all_below(labels, n_classes):
        valid = np.empty(labels.shape, dtype=bool)  # np.ones, without its Python frame
        valid.fill(True)
        return labels, valid
    valid = labels != ignore_index
    bad = labels[valid & ((labels < 0) | (labels >= n_classes))]
    if bad.size:
        raise IndexError(f"{name}: target {bad[0]} is out of bounds for {n_classes} classes "
                         f"(expected 0 <= target < {n_classes} or target == ignore_index {ignore_index})")
    return np.where(valid, labels, 0), valid


def class_setup(name: str, input: np.ndarray, target: np.ndarray, weight: np.ndarray | None,
                 probabilities: bool = False) -> tuple[np.ndarray | None, tuple[Any, ...]]:
    """Check input, class-index target and weight; return the weight (None stays None) and the batch shape."""
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d array")
    n_classes = input.shape[0 if input.ndim == 1 else 1]
    check_weight(name, input, weight)
    if weight is not None and weight.shape != (n_classes,):
        raise ValueError(f"{name}: weight must have shape ({n_classes},) (one per class), got {weight.shape}")
    batch_shape = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if probabilities:
        return weight, batch_shape
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    if target.shape != batch_shape:
        raise ValueError(f"{name}: expected class-index target of shape {batch_shape} "
                         f"for input of shape {input.shape}, got {target.shape}")
    return weight, batch_shape


_ROW_STARTS: dict[tuple[int, int], np.ndarray] = {}  # (N, C) -> arange(0, N C, C), read-only; see flat_picks


def flat_picks(labels: np.ndarray, classes: int) -> np.ndarray:
    """The flat indices n C + y_n of the picked entries of a C-contiguous (N, C) array, ``labels`` being y (N,).

    Why: ``x.reshape(-1)[flat]`` reads (and ``-=`` writes) the same entries as ``x[np.arange(N), y]`` with one
    index array instead of two, and the row starts are made once per (N, C) (a small dict, emptied when it
    grows past 64 shapes): about 1 us less per cross-entropy step on a small batch (2.5 -> 1.5 us for a 3x3
    ``-=``). The sum is taken in intp (uint64 labels would promote with int64 to float64); the labels are
    already checked to be in [0, C), so it cannot overflow."""
    n = labels.shape[0]
    starts = _ROW_STARTS.get((n, classes))
    if starts is None:
        if len(_ROW_STARTS) >= 64:
            _ROW_STARTS.clear()
        starts = _ROW_STARTS[(n, classes)] = np.arange(0, n * classes, classes)
        starts.flags.writeable = False
    flat: np.ndarray = np.add(starts, labels, dtype=np.intp)
    return flat


def subtract_picked(dlogits: np.ndarray, labels: np.ndarray, value: np.ndarray) -> None:
    """dlogits[n, y_n] -= value (a scalar or (N,)): through ``flat_picks`` when dlogits is C-contiguous (its flat
    reshape is then a view) and has classes, else with the two index arrays (and their errors). The same
    subtractions either way."""
    if dlogits.flags.c_contiguous and dlogits.shape[1]:
        flat = dlogits.reshape(-1)
        flat[flat_picks(labels, dlogits.shape[1])] -= value
    else:
        dlogits[np.arange(labels.size), labels] -= value


def pick_entries(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """x[n, y_n] for an (N, C) x, through ``flat_picks`` (the flat reshape is a copy if x is not C-contiguous,
    read in the same C order); with no classes, by the two index arrays, whose IndexError it keeps."""
    picked: np.ndarray = (x[np.arange(labels.size), labels] if not x.shape[1] else
                           x.reshape(-1)[flat_picks(labels, x.shape[1])])
    return picked
