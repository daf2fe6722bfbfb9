r"""Packed sequences as data movement: the pure pairs behind ``scratch.nn.utils.rnn`` (``pack_padded_sequence``,
``pad_packed_sequence``, ``pad_sequence``).

A batch of B sequences of lengths :math:`\ell_0 \ge \ell_1 \ge \dots` (sorted by decreasing length) is
*packed* time step by time step: step t holds the rows of the :math:`b_t = \#\{j : \ell_j > t\}` sequences still
running (``batch_sizes[t]``), a prefix of the sorted batch, so

.. math::
    \mathrm{data}[o_t + j] = x_{t,\ \pi(j)}, \qquad o_t = \sum_{s<t} b_s, \quad 0 \le j < b_t,

with :math:`\pi` = ``sorted_indices`` (the identity when the batch came sorted). Every op here is one gather or
one scatter through the flat index :math:`k(t, j) = t B + \pi(j)` (time-major) or :math:`\pi(j) T + t`
(batch-first) into the padded layout viewed as (T B, *), so each backward is the other one:

- pack (gather): :math:`\partial L/\partial x` is zero at padded positions and
  :math:`\partial L/\partial \mathrm{data}[o_t + j]` at :math:`k(t, j)` (a scatter; each position at most once);
- pad (scatter, the rest ``padding_value``): :math:`\partial L/\partial \mathrm{data} = (\partial L/\partial y)[k]`.

Shape: padded (T, B, *) or (B, T, *) with batch_first; data (S, *) with :math:`S = \sum_t b_t = \sum_j \ell_j`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["pack_padded_backward", "pack_padded_forward", "pad_packed_backward", "pad_packed_forward",
           "pad_sequence_backward", "pad_sequence_forward", "packed_index"]

IntArray = NDArray[np.int64]


def packed_index(batch_sizes: IntArray, sorted_indices: IntArray | None, total_length: int,
                 batch_first: bool) -> IntArray:
    r"""The flat index :math:`k(t, j)` of every packed row into the padded layout viewed as (T B, *), in packed
    order (t major, j ascending): the positions where ``arange(T)[:, None] < lengths[None, :]``.

    Shape: batch_sizes (T_max,), sorted_indices (B,) or None -> (S,).
    """
    batch = int(batch_sizes[0])
    lengths = (batch_sizes[:, None] > np.arange(batch)[None, :]).sum(axis=0)  # sorted lengths, (B,)
    t, j = np.nonzero(np.arange(len(batch_sizes))[:, None] < lengths[None, :])
    column = j if sorted_indices is None else sorted_indices[j]
    return column * total_length + t if batch_first else t * batch + column


def packed_steps(batch_sizes: Sequence[int], reverse: bool) -> list[tuple[int, int]]:
    """(first row, active rows) of each step in the order the cells run: t = 0..T-1, or T-1..0 if reverse."""
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)]).tolist()
    steps = [(int(offsets[t]), int(n)) for t, n in enumerate(batch_sizes)]
    return steps[::-1] if reverse else steps


def merge_active(prefix: tuple[NDArray[Any], ...], state: tuple[NDArray[Any], ...]
                 ) -> tuple[NDArray[Any], ...]:
    """``prefix`` over the first rows of ``state`` (the rows of sequences still running), the rest kept."""
    n = len(prefix[0])
    return prefix if n == len(state[0]) else tuple(np.concatenate([p, s[n:]]) for p, s in zip(prefix, state))


class PackCache(NamedTuple):
    """What ``pack_padded_backward`` needs: the padded input's shape and dtype and the flat index."""

    shape: tuple[int, ...]
    dtype: np.dtype
    flat_index: IntArray  #: the packed rows' positions in the input viewed as (T B, *)


def pack_padded_forward(input: NDArray[np.floating], lengths: IntArray, batch_first: bool = False,
                        sorted_indices: IntArray | None = None
                        ) -> tuple[tuple[NDArray[np.floating], IntArray], PackCache]:
    r"""Gather the packed rows: data = x.reshape(T B, *)[k] (see the module docstring), and
    :math:`b_t = \#\{j: \ell_j > t\}` for t < max length. ``lengths`` are those of the sorted batch, in
    decreasing order, each in 1..T (the caller checks).

    Shape: input (T, B, *) or (B, T, *) -> data (S, *), batch_sizes (max(lengths),).
    """
    total = input.shape[1] if batch_first else input.shape[0]
    batch_sizes = (lengths[None, :] > np.arange(int(lengths[0]))[:, None]).sum(axis=1).astype(np.int64)
    index = packed_index(batch_sizes, sorted_indices, total, batch_first)
    flat = input.reshape(-1, *input.shape[2:])
    return (flat[index], batch_sizes), PackCache(input.shape, input.dtype, index)


def pack_padded_backward(grad_data: NDArray[np.floating], cache: PackCache) -> NDArray[np.floating]:
    """dL/dinput: zeros, with grad_data scattered to the positions the rows were gathered from.

    Shape: grad_data (S, *) -> the input's shape.
    """
    grad = np.zeros((cache.shape[0] * cache.shape[1], *cache.shape[2:]), dtype=cache.dtype)
    grad[cache.flat_index] = grad_data
    return grad.reshape(cache.shape)


def pad_packed_forward(data: NDArray[np.floating], batch_sizes: IntArray, sorted_indices: IntArray | None,
                       batch_first: bool = False, padding_value: float = 0.0,
                       total_length: int | None = None) -> tuple[NDArray[np.floating], IntArray]:
    r"""Scatter the packed rows into a padded array filled with ``padding_value``, each sequence back in its
    original column (:math:`y_{t, \pi(j)} = \mathrm{data}[o_t + j]`). Returns (padded, index); pad_packed_backward
    takes the index as its cache.

    Shape: data (S, *), batch_sizes (T_max,) -> (T, B, *) or (B, T, *), T = total_length or T_max.
    """
    batch, total = int(batch_sizes[0]), len(batch_sizes) if total_length is None else total_length
    index = packed_index(batch_sizes, sorted_indices, total, batch_first)
    padded = np.full((total * batch, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded[index] = data
    shape = (batch, total) if batch_first else (total, batch)
    return padded.reshape(*shape, *data.shape[1:]), index


def pad_packed_backward(grad_padded: NDArray[np.floating], index: IntArray) -> NDArray[np.floating]:
    """dL/ddata: the gradient's entries at the packed rows' positions (padding gets no gradient).

    Shape: grad_padded (T, B, *) or (B, T, *) -> (S, *).
    """
    return grad_padded.reshape(-1, *grad_padded.shape[2:])[index]


def pad_sequence_forward(sequences: Sequence[NDArray[np.floating]], batch_first: bool = False,
                         padding_value: float = 0.0, padding_side: str = "right"
                         ) -> tuple[NDArray[np.floating], tuple[list[int], bool, bool]]:
    r"""Stack sequences of lengths :math:`\ell_j` into (T, B, *) (T = max length), sequence j in column j and
    its steps at :math:`t < \ell_j` (``padding_side='right'``) or :math:`t \ge T - \ell_j` ('left'); the rest
    ``padding_value``. One copy per sequence (a loop over the B inputs, which are separate arrays).

    Shape: each sequence (\ell_j, *) -> (T, B, *), or (B, T, *) with batch_first.
    """
    lengths = [len(seq) for seq in sequences]
    total, trailing = max(lengths), sequences[0].shape[1:]
    padded = np.full((len(sequences), total, *trailing), padding_value, dtype=sequences[0].dtype)
    left = padding_side == "left"
    for j, seq in enumerate(sequences):
        start = total - len(seq) if left else 0
        padded[j, start:start + len(seq)] = seq
    out = padded if batch_first else padded.swapaxes(0, 1).copy()
    return out, (lengths, batch_first, left)


def pad_sequence_backward(grad_padded: NDArray[np.floating],
                          cache: tuple[list[int], bool, bool]) -> list[NDArray[np.floating]]:
    """dL/d(each sequence): its own rows of the gradient (padding gets none).

    Shape: grad_padded (T, B, *) or (B, T, *) -> a list of (l_j, *).
    """
    lengths, batch_first, left = cache
    grad = grad_padded if batch_first else grad_padded.swapaxes(0, 1)
    total = grad.shape[1]
    return [grad[j, total - n:].copy() if left else grad[j, :n].copy() for j, n in enumerate(lengths)]
