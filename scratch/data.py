"""Data utilities: datasets and batching mirroring ``torch.utils.data``, splitting and scaling
mirroring scikit-learn, and ``one_hot`` mirroring ``torch.nn.functional.one_hot``.

Every random draw goes through the ``rng`` a caller passes or scratch's default generator
(``scratch.random.get_rng``), never NumPy's global state. Batches are gathered with one fancy
index per array, never a Python loop over samples.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, cast

import numpy as np

from .preprocessing import MinMaxScaler, StandardScaler, one_hot
from .random import get_rng

__all__ = ["DataLoader", "MinMaxScaler", "StandardScaler", "Subset", "TensorDataset", "one_hot",
           "random_split", "train_test_split"]


# --------------------------------------------------------------------------------------- datasets
class TensorDataset:
    """Rows of several arrays taken together, like ``torch.utils.data.TensorDataset``.

    Args:
        *arrays: arrays sharing their first dimension (the sample dimension).

    ``ds[i]`` is the tuple ``(a[i], b[i], ...)``; ``i`` may also be a slice or an index array,
    which gives a tuple of batched arrays.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        tensors = tuple(np.asarray(a) for a in arrays)
        for k, a in enumerate(tensors):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: array {k} is a scalar; every array needs a sample dimension")
        sizes = [a.shape[0] for a in tensors]
        if any(size != sizes[0] for size in sizes):
            raise ValueError(f"TensorDataset: size mismatch between arrays, first dimensions are {sizes}")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.tensors)

    def __len__(self) -> int:
        return cast(int, self.tensors[0].shape[0])


class Subset:
    """The samples of ``dataset`` at ``indices``, like ``torch.utils.data.Subset``.

    Args:
        dataset: any dataset with ``__len__`` and ``__getitem__`` (taking an index array for batching).
        indices: the positions in ``dataset`` this subset holds, in order.
    """

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = indices
        self._index = np.asarray(indices, dtype=np.intp).reshape(-1)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (list, tuple)):
            index = np.asarray(index, dtype=np.intp)
        return self.dataset[self._index[index]]

    def __len__(self) -> int:
        return len(self._index)


def _split_lengths(lengths: Sequence[float], n: int) -> list[int]:
    """torch's reading of ``lengths``: fractions summing to 1 become counts, the remainder
    handed out one by one from the first split on."""
    total = sum(lengths)
    if not (math.isclose(total, 1) and total <= 1):
        return [int(length) for length in lengths]
    counts = []
    for i, frac in enumerate(lengths):
        if frac < 0 or frac > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts.append(math.floor(n * frac))
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    for i, count in enumerate(counts):
        if count == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                          stacklevel=3)
    return counts


def random_split(dataset: Any, lengths: Sequence[float], *, rng: np.random.Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets, like ``torch.utils.data.random_split``.

    Args:
        dataset: any dataset with ``__len__``.
        lengths: the subsets' sizes, as ints summing to ``len(dataset)`` or fractions summing to 1
            (each fraction's count floored, the remainder added round-robin from the first split, as torch does).
        rng: the generator for the permutation; scratch's default generator when None.

    Returns:
        one ``Subset`` per length, in order.
    """
    n = len(dataset)
    counts = _split_lengths(lengths, n)
    if any(c < 0 for c in counts):
        raise ValueError(f"random_split: lengths must be non-negative, got {list(lengths)}")
    if sum(counts) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = get_rng(rng).permutation(n)
    ends = np.cumsum(counts)
    return [Subset(dataset, perm[end - count:end]) for end, count in zip(ends, counts)]


# ------------------------------------------------------------------------------------- DataLoader
class DataLoader:
    """Batches of a dataset, like ``torch.utils.data.DataLoader`` with the default samplers.

    Args:
        dataset: a ``TensorDataset``, ``Subset`` or any object with ``__len__`` and an
            ``__getitem__`` that takes an index array and returns a tuple of batched arrays.
        batch_size: samples per batch (positive int).
        shuffle: draw a fresh permutation at each ``iter`` (each epoch).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        rng: the generator for shuffling; when None, scratch's default generator as it is at
            each ``iter`` (so ``scratch.manual_seed`` before an epoch fixes that epoch's order).

    Iterating yields tuples of arrays, one per dataset array, each of batch size in its first dimension.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False, *,
                 rng: np.random.Generator | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle should be a boolean value, but got shuffle={shuffle}")
        if rng is not None:
            get_rng(rng)  # type check now rather than at the first epoch
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = rng

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        n = len(self.dataset)
        order = get_rng(self.rng).permutation(n) if self.shuffle else np.arange(n)
        for b in range(len(self)):
            batch = self.dataset[order[b * self.batch_size:(b + 1) * self.batch_size]]
            yield batch if isinstance(batch, tuple) else (batch,)


# ------------------------------------------------------------------------------- train_test_split
def _check_size(name: str, size: float | None, n: int) -> float | int | None:
    """``size`` as a Python float (a share) or int (a count), checked as scikit-learn checks it."""
    if size is None:
        return None
    kind = np.asarray(size).dtype.kind
    if (kind == "i" and not 0 < size < n) or (kind == "f" and not 0 < size < 1) or kind not in "if":
        raise ValueError(f"{name}={size} should be either positive and smaller than the number of samples "
                         f"{n} or a float in the (0, 1) range")
    return float(size) if kind == "f" else int(size)


def _split_sizes(n: int, test_size: float | None, train_size: float | None) -> tuple[int, int]:
    """scikit-learn's ``_validate_shuffle_split``: a float test size is rounded up, a float train size down."""
    if test_size is None and train_size is None:
        test_size = 0.25
    test_size = _check_size("test_size", test_size, n)
    train_size = _check_size("train_size", train_size, n)
    if isinstance(test_size, float) and isinstance(train_size, float) and test_size + train_size > 1:
        raise ValueError(f"The sum of test_size and train_size = {test_size + train_size}, should be in the "
                         "(0, 1) range. Reduce test_size and/or train_size.")
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else test_size
    n_train = math.floor(train_size * n) if isinstance(train_size, float) else train_size
    n_train = n - cast(int, n_test) if n_train is None else int(n_train)  # not both None: test_size defaults
    n_test = n - n_train if n_test is None else int(n_test)
    if n_train + n_test > n:
        raise ValueError(f"The sum of train_size and test_size = {n_train + n_test}, should be smaller than "
                         f"the number of samples {n}. Reduce test_size and/or train_size.")
    if n_train == 0:
        raise ValueError(f"With n_samples={n}, test_size={test_size} and train_size={train_size}, the resulting "
                         "train set will be empty. Adjust any of the aforementioned parameters.")
    return n_train, n_test


def _apportion(counts: np.ndarray, n_draws: int) -> np.ndarray:
    """Split ``n_draws`` over classes in proportion to ``counts``: floors, then the leftover
    draws to the largest remainders (scikit-learn's ``_approximate_mode``, ties broken by class order)."""
    exact = counts / counts.sum() * n_draws
    floored = np.floor(exact).astype(np.intp)
    order = np.argsort(-(exact - floored), kind="stable")
    floored[order[:n_draws - floored.sum()]] += 1
    return cast("np.ndarray", floored)


def _stratified_indices(labels: np.ndarray, n_train: int, n_test: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Train and test positions keeping each class's share, as ``StratifiedShuffleSplit`` does."""
    classes, y = np.unique(labels, axis=0, return_inverse=True)
    y = y.reshape(-1)
    counts = np.bincount(y)
    if counts.min() < 2:
        raise ValueError("The least populated class in y has only 1 member, which is too few. The minimum "
                         "number of groups for any class cannot be less than 2.")
    if n_train < len(classes) or n_test < len(classes):
        raise ValueError(f"The train_size = {n_train} and test_size = {n_test} should each be greater or equal "
                         f"to the number of classes = {len(classes)}")
    n_i = _apportion(counts, n_train)
    t_i = _apportion(counts - n_i, n_test)
    by_class = np.split(np.argsort(y, kind="stable"), np.cumsum(counts)[:-1])
    train, test = [], []
    for members, n_c, t_c in zip(by_class, n_i, t_i):  # a loop over classes, not samples
        perm = rng.permutation(members)
        train.append(perm[:n_c])
        test.append(perm[n_c:n_c + t_c])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def train_test_split(*arrays: Any, test_size: float | int | None = None, train_size: float | int | None = None,
                     shuffle: bool = True, stratify: Any = None,
                     rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Split arrays into random train and test subsets, like ``sklearn.model_selection.train_test_split``.

    Args:
        *arrays: arrays sharing their first dimension.
        test_size: a float in (0, 1) (the share, rounded up) or an int (the count). When both sizes
            are None it is 0.25; when only ``train_size`` is given it is the complement (scikit-learn's rule).
        train_size: a float (share, rounded down) or an int; None means the complement of the test size.
        shuffle: shuffle before splitting; without it the train set is the first rows, the test set the next.
        stratify: class labels; each class gets the same share in both sets (needs ``shuffle``).
        rng: the generator; scratch's default generator when None.

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]``.
    """
    if not arrays:
        raise ValueError("At least one array required as input")
    arrays_np = [np.asarray(a) for a in arrays]
    lengths = [a.shape[0] if a.ndim else None for a in arrays_np]
    if None in lengths or len(set(lengths)) != 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")
    n = cast(int, lengths[0])  # not None: checked above
    n_train, n_test = _split_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError("Stratified train/test split is not implemented for shuffle=False")
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    elif stratify is not None:
        labels = np.asarray(stratify)
        if labels.shape[:1] != (n,):
            raise ValueError(f"train_test_split: stratify has {labels.shape[:1]} samples, the arrays have {n}")
        train, test = _stratified_indices(labels, n_train, n_test, get_rng(rng))
    else:
        perm = get_rng(rng).permutation(n)
        test, train = perm[:n_test], perm[n_test:n_test + n_train]
    return [part for a in arrays_np for part in (a[train], a[test])]


# ---------------------------------------------------------------------------------------- scalers
