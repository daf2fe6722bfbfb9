"""Assertions for tests, yours and ours: one helper per kind of check, so each test is one line.

``assert_module_parity(MyLayer(...), x)`` runs a layer and its torch twin on the same input and the same
random upstream gradient and fails with a table of the quantities that differ (``assert_loss_parity``,
``assert_optimizer_parity``, ``assert_training_parity`` likewise; the pytest fixture ``parity``,
``torch_ref.pytest_plugin``, hands them to a test with a per-test rng); the ``assert_gradcheck`` pair
checks a backward against central differences with no torch at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scratch import nn
from scratch.gradcheck import GradcheckResult, gradcheck, gradcheck_loss

from .catalog import CASES, Case
from .component import loss_parity, module_parity, optimizer_parity, optimizer_quantities
from .report import ParityResult, Report, compare_arrays, format_table
from .training import compare

DTYPES = [np.float32, np.float64]
MIN_NORM = 1e-6  # every gradient checked by differences must be at least this large, so 0 == 0 never passes
SHOWN_ARRAYS = 3  # a failure message shows the arrays of its first three failing quantities
UPSTREAM_SEED = 99  # not the data's seed 0: an upstream g equal to x would make e.g. dW = g^T x = x^T x symmetric


def _failure_message(result: ParityResult, what: str) -> str:
    """The failing comparisons as ``format_table``'s table, then the two arrays of each, as far as kept."""
    failing = [c for c in result.comparisons if not c.ok]
    title = f"{what} differs from torch in {len(failing)} of {len(result.comparisons)} quantities:"
    lines = [format_table(failing, title, root=what, steps=False, problems=True)]
    for c in [c for c in failing if c.quantity in result.arrays and not c.module][:SHOWN_ARRAYS]:
        actual, expected = result.arrays[c.quantity]
        lines.append(f"{c.quantity}:")
        lines += [f"  {engine}: " + np.array2string(a, threshold=20, prefix=f"  {engine}: ")
                  for engine, a in (("scratch", actual), ("torch  ", expected))]
    return "\n".join(lines)


def assert_ok(result: ParityResult, what: str) -> ParityResult:
    """``result`` compared something and every comparison is within its tolerance, else an AssertionError
    whose message is the table of the failing quantities."""
    __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
    if not result.comparisons:
        raise AssertionError(f"{what}: nothing was compared")
    if not result.ok:
        raise AssertionError(_failure_message(result, what))
    return result


def assert_close(actual: Any, expected: Any, tol: float, what: str, *, min_norm: float | None = None) -> None:
    """Same shape, dtype and values within ``tol`` (``torch_ref.tolerance``'s measure); ``expected`` may be a tensor."""
    comparison = compare_arrays(what, actual, expected, tol, min_norm=min_norm)
    assert comparison.ok, comparison.describe(actual, expected)


def _rng(rng: np.random.Generator | int | None, default: int) -> np.random.Generator:
    return np.random.default_rng(default if rng is None else rng)


def assert_module_parity(module: nn.Module, *inputs: Any, rtol: float | None = None, atol: float | None = None,
                         rng: np.random.Generator | int | None = None) -> ParityResult:
    """Run ``module`` and its torch twin (``torch_ref.register_twin`` for a layer of your own) on the same
    inputs and the same random upstream gradient: every output, dL/d(every float input), every parameter
    gradient and buffer, and the rows of every module inside it, must match in shape, dtype and values,
    and every gradient be non-trivial.

    ``rtol`` replaces the tolerance policy's (``torch_ref.tolerance.rtol(dtype, n)``); a comparison within
    ``atol`` (absolute) passes too. ``rng`` (a Generator or a seed; default seed 0) draws the upstream
    gradient. Returns the ``ParityResult``; raises AssertionError with the table of the failing quantities.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
    result = module_parity(module, *inputs, rng=_rng(rng, 0), tol=rtol, atol=atol)
    return assert_ok(result, type(module).__name__)


def assert_loss_parity(criterion: nn.Module, input: Any, target: Any, rtol: float | None = None,
                       atol: float | None = None, rng: np.random.Generator | int | None = None) -> ParityResult:
    """``assert_module_parity`` for a loss ``criterion(input, target)`` (``input`` a tuple for a loss of
    several inputs), with a random upstream gradient: a scalar for a reduced loss, an array for 'none'."""
    __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
    result = loss_parity(criterion, input, target, rng=_rng(rng, 0), tol=rtol, atol=atol)
    reduction = getattr(criterion, "reduction", None)
    return assert_ok(result, type(criterion).__name__ + ("" if reduction is None else f"(reduction={reduction!r})"))


def assert_optimizer_parity(optimizer: str | type, groups: dict | list[dict], *, dtype: Any = np.float64,
                            steps: int = 60, rtol: float | None = None, atol: float | None = None,
                            rng: np.random.Generator | int | None = None) -> ParityResult:
    """``torch_ref.optimizer_parity`` for ``steps`` steps: ``scratch.optim.<optimizer>`` (or an optimizer class
    of your own, registered with its torch twin) and torch's, from the same parameters and gradients;
    parameters and state after every step. ``rtol`` replaces every step's tolerance, ``atol`` as above;
    ``rng`` defaults to seed 1."""
    __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
    result = optimizer_parity(optimizer, groups, dtype=dtype, rng=_rng(rng, 1), steps=steps, rtol=rtol, atol=atol)
    return assert_ok(result, f"{getattr(optimizer, '__name__', optimizer)} {groups}")


def assert_training_parity(model: nn.Module, criterion: nn.Module, inputs: np.ndarray, targets: np.ndarray,
                           **compare_options: Any) -> Report:
    """Train ``model`` and its torch twin side by side (``torch_ref.training.compare``, with its options:
    ``optimizer``, ``steps``, ``batch_size``, ``rtol``, ``atol``, ``scheduler``, ``max_grad_norm``) and
    require every comparison of every step to pass. Returns the ``Report``; raises AssertionError whose
    message is the report's summary: the first divergence (step, module, quantity) and the worst rows."""
    __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
    report = compare(model, criterion, inputs, targets, **compare_options)
    if not report.comparisons:
        raise AssertionError(f"{type(model).__name__}: nothing was compared (steps=0?)")
    if not report.ok:
        raise AssertionError(f"{type(model).__name__} trained side by side diverges from torch:\n{report}")
    return report


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
