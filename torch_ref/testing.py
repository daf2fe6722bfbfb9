"""Assertions for tests, yours and ours: one helper per kind of check, so each test is one line.

``assert_module_parity(MyLayer(...), x)`` runs a layer and its torch twin on the same input and the same
random upstream gradient and fails with the first quantity that differs; the ``assert_gradcheck`` pair
checks a backward against central differences with no torch at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scratch import nn
from scratch.gradcheck import GradcheckResult, gradcheck, gradcheck_loss

from .catalog import CASES, Case
from .component import loss_parity, module_parity, optimizer_parity, optimizer_quantities
from .report import ParityResult, compare_arrays

DTYPES = [np.float32, np.float64]
MIN_NORM = 1e-6  # every gradient checked by differences must be at least this large, so 0 == 0 never passes
UPSTREAM_SEED = 99  # not the data's seed 0: an upstream g equal to x would make e.g. dW = g^T x = x^T x symmetric


def assert_ok(result: ParityResult, what: str) -> ParityResult:
    """``result`` compared something and every comparison is within its tolerance."""
    assert result.comparisons, f"{what}: nothing was compared"
    assert result.ok, f"{what} differs from torch:\n" + "\n".join(result.failures())
    return result


def assert_close(actual: Any, expected: Any, tol: float, what: str, *, min_norm: float | None = None) -> None:
    """Same shape, dtype and values within ``tol`` (``torch_ref.tolerance``'s measure); ``expected`` may be a tensor."""
    comparison = compare_arrays(what, actual, expected, tol, min_norm=min_norm)
    assert comparison.ok, comparison.describe(actual, expected)


def assert_module_parity(module: nn.Module, *inputs: Any, seed: int = 0) -> ParityResult:
    """Same inputs, same random upstream gradient into ``module`` and its torch twin: output, dL/dinput
    and every parameter gradient must match (shape, dtype, values) and every gradient be non-trivial."""
    return assert_ok(module_parity(module, *inputs, rng=np.random.default_rng(seed)), type(module).__name__)


def assert_loss_parity(criterion: nn.Module, input: Any, target: Any, seed: int = 0) -> ParityResult:
    """``assert_module_parity`` for a loss, with a random upstream gradient (scalar or per element)."""
    result = loss_parity(criterion, input, target, rng=np.random.default_rng(seed))
    return assert_ok(result, f"{type(criterion).__name__}(reduction={criterion.reduction!r})")


def assert_optimizer_parity(optimizer: str | type, groups: dict | list[dict], *, dtype: Any = np.float64,
                            steps: int = 60, seed: int = 1) -> ParityResult:
    """``torch_ref.optimizer_parity`` for ``steps`` steps: parameters and state after every step."""
    result = optimizer_parity(optimizer, groups, dtype=dtype, rng=np.random.default_rng(seed), steps=steps)
    return assert_ok(result, f"{optimizer} {groups}")


def assert_same_state(ours: dict, theirs: dict, opt: Any, torch_opt: Any, tol: float, step: int) -> None:
    """Every parameter and every optimizer state entry of two optimizers over twin parameters (by name)."""
    for quantity, actual, expected in optimizer_quantities(ours, theirs, opt, torch_opt):
        assert_close(actual, expected, tol, f"step {step}: {quantity}")


def _assert_checked(result: GradcheckResult, expected: set[str]) -> None:
    result.raise_on_failure()
    assert {check.quantity for check in result.checks} == expected, f"checked {[c.quantity for c in result.checks]}"
    for check in result.checks:
        assert check.norm > MIN_NORM, f"{result.what} {check.quantity}: trivial gradient (norm {check.norm:.2e})"


def assert_gradcheck(module: nn.Module, *inputs: Any, seed: int = UPSTREAM_SEED) -> None:
    """dL/dinput and every parameter gradient match central differences, and none is trivially 0."""
    result = gradcheck(module, *inputs, rng=np.random.default_rng(seed))
    n_float = sum(np.issubdtype(np.asarray(x).dtype, np.floating) for x in inputs)  # not Embedding's indices
    names = {"input"} if n_float == 1 else {f"input[{i}]" for i in range(n_float)}  # Bilinear's two inputs
    _assert_checked(result, names | {name for name, _ in module.named_parameters()})


def assert_gradcheck_loss(criterion: nn.Module, input: Any, target: Any, seed: int = UPSTREAM_SEED) -> None:
    """dL/dinput of a loss (and of its parameters, if any), with a random scalar (or per-element) upstream gradient,
    matches central differences."""
    pair = isinstance(input, tuple)  # a loss with parameters (LinearCrossEntropyLoss's Linear): theirs too
    _assert_checked(gradcheck_loss(criterion, input, target, rng=np.random.default_rng(seed)),
                    ({"input[0]", "input[1]"} if pair else {"input"}) | {n for n, _ in criterion.named_parameters()})


def catalog_cases(*subjects: str, kind: str | None = None, without: tuple[str, ...] = ()) -> list[Case]:
    """The catalog's cases of these subjects (all when none named), of ``kind``, without the given tags."""
    return [case for case in CASES if (not subjects or case.subject in subjects)
            and (kind is None or case.kind == kind) and not set(case.tags) & set(without)]


def build(case: Case | str, dtype: Any = np.float64, seed: int = 0) -> Any:
    """A catalog case's sample, ``case.make(dtype, rng)``: ``(module, inputs)`` or ``(criterion, input, target)``."""
    if isinstance(case, str):
        case = next(c for c in CASES if c.name == case)
    assert case.make is not None, f"{case.name} has no sample to build"
    return case.make(np.dtype(dtype), np.random.default_rng(seed))
