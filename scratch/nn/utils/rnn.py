r"""Packed and padded sequences, mirroring ``torch.nn.utils.rnn``: ``PackedSequence``, ``pad_sequence``,
``pack_padded_sequence``, ``pad_packed_sequence``, ``pack_sequence``, ``unpack_sequence``, ``unpad_sequence``.

scratch has no autograd: each function here returns values only. The gradients of the data-movement ops are
the pure pairs in ``scratch.nn.functional.rnn_packed`` (packing is a gather, its backward a scatter; padding the
reverse); an RNN, LSTM or GRU given a PackedSequence returns a PackedSequence and its backward takes the
gradient of the output's data (or a PackedSequence of it) and returns dL/d(input data) as a PackedSequence.

Lengths are NumPy int64 arrays (torch's CPU int64 tensors), ``batch_sizes`` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..functional.rnn_packed import pack_padded_forward, pad_packed_forward, pad_sequence_forward

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]

IntArray = NDArray[np.int64]


class _PackedSequenceFields(NamedTuple):
    data: NDArray[Any]
    batch_sizes: IntArray
    sorted_indices: IntArray | None
    unsorted_indices: IntArray | None


class PackedSequence(_PackedSequenceFields):
    r"""The data and ``batch_sizes`` of a packed batch of sequences (torch's ``PackedSequence``, a NamedTuple).

    ``data`` (S, *) holds step t's rows (one per sequence still running, a prefix of the batch sorted by
    decreasing length) after those of steps < t; ``batch_sizes[t]`` is their count. ``sorted_indices[j]`` is
    the original batch column of the j-th longest sequence (None: the batch came sorted) and
    ``unsorted_indices`` its inverse, computed from it when not given, as torch. Build one with
    ``pack_padded_sequence`` or ``pack_sequence``.
    """

    def __new__(cls, data: NDArray[Any], batch_sizes: IntArray | None = None,
                sorted_indices: IntArray | None = None, unsorted_indices: IntArray | None = None) -> PackedSequence:
        if batch_sizes is None:  # torch's PackedSequence((data, batch_sizes), sorted_indices=...)
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError("PackedSequence: expected data and batch_sizes, or a tuple (data, batch_sizes)")
            data, batch_sizes = data
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)


def invert_permutation(permutation: IntArray | None) -> IntArray | None:
    """The inverse of ``permutation`` (None for None): ``out[permutation[i]] = i``."""
    if permutation is None:
        return None
    out = np.empty_like(permutation)
    out[permutation] = np.arange(len(permutation), dtype=permutation.dtype)
    return out


def _lengths(name: str, lengths: Any, batch: int, total: int) -> IntArray:
    """``lengths`` as a 1-D int64 array, checked as torch checks it, and each at most the padded length."""
    given = np.asarray(lengths)
    if given.ndim != 1 or given.dtype.kind not in "biuf":
        raise RuntimeError(f"{name}: 'lengths' argument should be a 1D int64 array, but got a {given.ndim}D array "
                         f"of dtype {given.dtype}")
    lengths = given.astype(np.int64)  # torch: lengths.to(dtype=torch.int64)
    if len(lengths) != batch:
        raise RuntimeError(f"{name}: Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                         f"(batch_size={batch})")
    if batch and lengths.max() > total:  # torch does not check, and reads past the input
        raise ValueError(f"{name}: every length must be at most the padded sequence length {total}, got lengths "
                         f"{lengths.tolist()}")
    result: IntArray = lengths
    return result


def pack_padded_sequence(input: NDArray[np.floating], lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    r"""Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences of ``lengths``: the rows
    :math:`x_{t, \pi(j)}` for :math:`t < \ell_{\pi(j)}`, step by step (see ``functional.rnn_packed``).

    With ``enforce_sorted`` the lengths must be in decreasing order (``sorted_indices`` None); else the batch is
    sorted by decreasing length first (a stable sort, torch's ``sort(descending=True)`` on the CPU) and
    ``sorted_indices`` is that order. Every length must be in 1..T.
    """
    name = "pack_padded_sequence"
    if not isinstance(input, np.ndarray) or input.ndim < 2:
        raise TypeError(f"{name}: expected input to be a numpy.ndarray of at least 2 dimensions, got "
                        f"{type(input).__name__}{'' if not isinstance(input, np.ndarray) else f' {input.shape}'}")
    batch, total = (input.shape[0], input.shape[1]) if batch_first else (input.shape[1], input.shape[0])
    lengths = _lengths(name, lengths, batch, total)
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(f"{name}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                             f"True, got {lengths.tolist()}. You can pass `enforce_sorted=False` to "
                             "pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do not "
                             "need ONNX exportability.")
    else:
        sorted_indices = np.argsort(-lengths, kind="stable")
        lengths = lengths[sorted_indices]
    if batch == 0 or lengths[-1] <= 0:
        raise RuntimeError(f"{name}: Length of all samples has to be greater than 0, but found an element in 'lengths' "
                         f"that is <= 0: {lengths.tolist()}")
    (data, batch_sizes), _ = pack_padded_forward(input, lengths, batch_first, sorted_indices)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[NDArray[np.floating], IntArray]:
    r"""The inverse of ``pack_padded_sequence``: (padded, lengths), padded (T, B, *) (or (B, T, *)) with each
    sequence back in its original column and ``padding_value`` past its end, T = ``total_length`` or the longest
    length; lengths (B,) int64, in the original order.
    """
    name = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{name}: expected a PackedSequence, got {type(sequence).__name__}")
    batch_sizes = np.asarray(sequence.batch_sizes, dtype=np.int64)
    if total_length is not None and total_length < len(batch_sizes):
        raise ValueError(f"{name}: Expected total_length to be at least the length of the longest sequence in "
                         f"input, but got total_length={total_length} and max sequence length being "
                         f"{len(batch_sizes)}")
    padded, _ = pad_packed_forward(sequence.data, batch_sizes, sequence.sorted_indices, batch_first, padding_value,
                                   total_length)
    lengths = (batch_sizes[:, None] > np.arange(int(batch_sizes[0]))[None, :]).sum(axis=0).astype(np.int64)
    if sequence.unsorted_indices is not None:
        lengths = lengths[sequence.unsorted_indices]
    return padded, lengths


def pad_sequence(sequences: Iterable[NDArray[np.floating]], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> NDArray[np.floating]:
    """Stack variable-length sequences (l_j, *) into (T, B, *) (or (B, T, *)), padded with ``padding_value``
    on the right (default) or the left; T = max l_j."""
    name = "pad_sequence"
    if isinstance(sequences, np.ndarray):  # torch unbinds a tensor along dim 0 (TorchScript's path)
        sequences = list(sequences)
    if not isinstance(sequences, Iterable):
        raise TypeError(f"{name}: Expected iterable for input sequences, but got arg of type: {type(sequences)}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError(f"{name}: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"{name}: Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    for seq in sequences:
        if not isinstance(seq, np.ndarray) or seq.ndim < 1:
            raise TypeError(f"{name}: expected each sequence to be a numpy.ndarray of at least 1 dimension, got "
                            f"{type(seq).__name__}")
        if seq.shape[1:] != first.shape[1:] or seq.dtype != first.dtype:
            raise RuntimeError(f"{name}: every sequence must have the trailing shape and dtype of the first, "
                             f"{first.shape[1:]} {first.dtype}, got {seq.shape[1:]} {seq.dtype}")
    return pad_sequence_forward(sequences, batch_first, padding_value, padding_side)[0]


def unpad_sequence(padded_sequences: NDArray[np.floating], lengths: Any,
                   batch_first: bool = False) -> list[NDArray[np.floating]]:
    """The sequences of a right-padded batch: column j's first lengths[j] steps, each (l_j, *) (copies; torch's
    quirk of transposing its input in place when batch_first=False is not copied)."""
    padded = padded_sequences if batch_first else padded_sequences.swapaxes(0, 1)
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) != len(padded):
        raise ValueError(f"unpad_sequence: expected one length per sequence ({len(padded)}), got {len(lengths)}")
    return [padded[j, :n].copy() for j, n in enumerate(lengths.tolist())]


def pack_sequence(sequences: Sequence[NDArray[np.floating]], enforce_sorted: bool = True) -> PackedSequence:
    """``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)``."""
    lengths = np.array([len(seq) for seq in sequences], dtype=np.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[NDArray[np.floating]]:
    """The sequences of a PackedSequence, in their original order: ``pad_packed_sequence`` then
    ``unpad_sequence``."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
