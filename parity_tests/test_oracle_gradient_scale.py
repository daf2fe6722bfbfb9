"""The terms scale of MultiheadAttention's input gradients (torch_ref/oracle/gradient_scale.py) is sound.

module_db's MultiheadAttention sample 62 (inputs up to |9|, no bias: peaked softmax rows) has a query
gradient that cancels in the softmax Jacobian dS = A * (dA - rowsum(dA * A)): in float32 both engines err
against float64 beyond rtol(float32, 9) relative to the gradient's own scale. Judged against the magnitude
of its terms it passes; the tests below show that this scale is never below the gradient itself, and that
a planted slip in scratch's query gradient (the rowsum term dropped, or dq off by 1 %) still fails, on
sample 62 and on an ordinary sample, in both dtypes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from scratch.nn.functional import _attention_core, attention
from torch_ref.oracle import gradient_scale
from torch_ref.oracle.module_cases import all_module_cases
from torch_ref.oracle.modules import run_module_case

MHA_CASES = [case for case in all_module_cases() if case.name == "MultiheadAttention"]
PEAKED, ORDINARY = 62, 24  # sample 62's query gradient cancels; sample 24 (biases, no masks) is a plain one


def _case(index: int, dtype: torch.dtype, training: bool = True) -> Any:
    return next(c for c in MHA_CASES if c.index == index and c.dtype == dtype and c.training == training)


def _failing(result: Any) -> set[str]:
    return {c.quantity for c in result.comparisons if not c.ok}


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_the_peaked_sample_passes_against_its_terms_and_fails_without(monkeypatch: pytest.MonkeyPatch,
                                                                      training: bool):
    case = _case(PEAKED, torch.float32, training)
    assert run_module_case(case).ok
    monkeypatch.delitem(gradient_scale.TERMS, "MultiheadAttention")
    assert _failing(run_module_case(case)) == {"grad_query"}


def _rowsum_dropped(d_weights: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return weights * d_weights  # the slip: dS = A * dA, the softmax Jacobian's rowsum term left out


def _dq_off(original: Callable[..., Any]) -> Callable[..., Any]:
    def backward(*args: Any, **kwargs: Any) -> Any:
        dq, dk, dv = original(*args, **kwargs)
        return dq * dq.dtype.type(1.01), dk, dv  # the slip: the query gradient 1 % off
    return backward


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("index", [PEAKED, ORDINARY])
def test_a_planted_slip_in_the_query_gradient_still_fails(monkeypatch: pytest.MonkeyPatch, index: int,
                                                          dtype: torch.dtype):
    case = _case(index, dtype)
    assert run_module_case(case).ok
    with monkeypatch.context() as patch:
        patch.setattr(_attention_core, "softmax_rows_backward", _rowsum_dropped)
        assert "grad_query" in _failing(run_module_case(case))
    with monkeypatch.context() as patch:
        patch.setattr(attention, "attend_backward", _dq_off(attention.attend_backward))
        assert "grad_query" in _failing(run_module_case(case))


def test_the_terms_are_never_below_the_gradient(monkeypatch: pytest.MonkeyPatch):
    """Over every MultiheadAttention case (float32 and float64, train and eval): the terms scale of the query
    and key gradients is at least max|torch's gradient|, as a sum of absolute values is; the value gradient
    keeps the measure's own scale."""
    scales: list[dict[str, float]] = []
    terms = gradient_scale.TERMS["MultiheadAttention"]

    def recorded(run: gradient_scale.Pass) -> dict[str, float]:
        scales.append(terms(run))
        return scales[-1]

    monkeypatch.setitem(gradient_scale.TERMS, "MultiheadAttention", recorded)
    for case in MHA_CASES:
        scales.clear()
        result = run_module_case(case)
        assert result.ok, case.id
        assert set(scales[0]) == {"query", "key"}, case.id
        for name, scale in scales[0].items():
            torchs = result.arrays[f"grad_{name}"][1].astype(np.float64)
            assert scale >= np.max(np.abs(torchs[np.isfinite(torchs)]), initial=0.0) > 0, case.id
