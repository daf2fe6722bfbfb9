"""CTCLoss: padded and concatenated targets, an empty target, repeated labels (a blank between their copies),
an input exactly as long as its target needs, another blank, impossible alignments (with and without
zero_infinity), lengths as tuples of ints and int32 targets, unbatched. Each in every reduction; the gradient
is dL/dlog_probs (the targets and lengths are integers)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scratch import nn

from ..case import Case, module_case
from ..data import log_probabilities
from . import REDUCTIONS, MakeLoss, with_reduction

# (T, N, C) = (12, 4, 6); the third target is empty, the fourth has repeats: 2 2 needs a blank between them
PADDED = np.array([[1, 2, 3, 4, 5], [5, 1, 1, 0, 0], [0, 0, 0, 0, 0], [2, 2, 3, 3, 1]])
TARGET_LENGTHS = np.array([5, 3, 0, 5])
INPUT_LENGTHS = np.array([12, 9, 7, 12])
CONCATENATED = np.concatenate([row[:n] for row, n in zip(PADDED, TARGET_LENGTHS, strict=True)])


def _ctc(targets: np.ndarray, input_lengths: Sequence[int] | np.ndarray = INPUT_LENGTHS,
         target_lengths: Sequence[int] | np.ndarray = TARGET_LENGTHS, *, shape: tuple[int, ...] = (12, 4, 6),
         blank: int = 0, zero_infinity: bool = False) -> MakeLoss:
    """CTCLoss(blank, zero_infinity) on random (T, N, C) log-probabilities with these targets and lengths."""
    def make(d: np.dtype, r: np.random.Generator, red: str) -> tuple:
        criterion = nn.CTCLoss(blank=blank, reduction=red, zero_infinity=zero_infinity)
        return criterion, [log_probabilities(r, d, *shape), targets, input_lengths, target_lengths]
    return make


def per_reduction(name: str, make: MakeLoss) -> list[Case]:
    """One case per reduction; CTCLoss's forward takes four arguments, so these are module cases."""
    subject, _, options = name.partition("(")
    options = options.rstrip(")")
    return [module_case(f"{subject}({options + ',' if options else ''}{red})", with_reduction(make, red))
            for red in REDUCTIONS]


# the second sample needs 2 * 3 + 1 = 7 steps for 1 1 1 (blanks between the repeats) and gets 4: impossible
IMPOSSIBLE = np.array([[1, 2, 1], [1, 1, 1]])

CASES: list[Case] = [
    *per_reduction("CTCLoss(padded)", _ctc(PADDED)),
    *per_reduction("CTCLoss(concatenated)", _ctc(CONCATENATED)),
    *per_reduction("CTCLoss(tuples of lengths,int32 targets)", _ctc(PADDED.astype(np.int32),
                                                                    tuple(INPUT_LENGTHS.tolist()),
                                                                    tuple(TARGET_LENGTHS.tolist()))),
    *per_reduction("CTCLoss(blank=5)", _ctc(PADDED % 5, blank=5)),
    *per_reduction("CTCLoss(repeats,input just long enough)", _ctc(
        np.array([[1, 1, 2], [3, 3, 3]]), np.array([7, 5]), np.array([3, 3]), shape=(7, 2, 4))),
    *per_reduction("CTCLoss(impossible,zero_infinity)", _ctc(
        IMPOSSIBLE, np.array([6, 4]), np.array([3, 3]), shape=(6, 2, 4), zero_infinity=True)),
    *per_reduction("CTCLoss(unbatched)", lambda d, r, red: (
        nn.CTCLoss(reduction=red), [log_probabilities(r, d, 9, 5), np.array([4, 1, 1, 3]), np.array(9),
                                     np.array(4)])),
]
