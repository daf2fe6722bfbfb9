"""The parity suite's shared checks: one helper per kind of check, so each test is one line."""

from __future__ import annotations

import numpy as np

from scratch import nn
from torch_ref import ParityResult, loss_parity, module_parity

DTYPES = [np.float32, np.float64]


def _assert_ok(result: ParityResult, what: str) -> None:
    assert result.comparisons, f"{what}: nothing was compared"
    assert result.ok, f"{what} differs from torch:\n" + "\n".join(result.failures())


def assert_module_parity(module: nn.Module, *inputs: np.ndarray, seed: int = 0) -> ParityResult:
    """Same inputs, same random upstream gradient into ``module`` and its torch twin: output, dL/dinput
    and every parameter gradient must match (shape, dtype, values) and every gradient be non-trivial."""
    result = module_parity(module, *inputs, rng=np.random.default_rng(seed))
    _assert_ok(result, type(module).__name__)
    return result


def assert_loss_parity(criterion: nn.Module, input: np.ndarray, target: np.ndarray, seed: int = 0) -> ParityResult:
    """``assert_module_parity`` for a loss, with a random upstream gradient (scalar or per element)."""
    result = loss_parity(criterion, input, target, rng=np.random.default_rng(seed))
    _assert_ok(result, f"{type(criterion).__name__}(reduction={criterion.reduction!r})")
    return result
