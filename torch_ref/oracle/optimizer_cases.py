"""The cases of the optimizer oracle: torch's own optimizer sample inputs (``optim_db``) for every optimizer
scratch has, in float32 and float64. A case is one of

- plain: one input of torch's ``_get_optim_inputs_including_global_cliquey_kwargs`` (its implementation flags
  all False, then each of foreach / fused / differentiable True);
- scheduler: one list of ``OptimizerInfo.scheduler_inputs`` with one input of ``optim_inputs_func`` (as
  torch's test_forloop_goes_right_direction pairs them), or on two param groups, the second with its own lr
  (as test_param_group_with_lrscheduler_goes_right_direction).

Where torch's OptimizerInfo skips or expects to fail the matching test of torch's test_optim.py on the CPU,
the case says so (``torch_skip``, ``torch_xfail``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from scratch import optim

from ..convert import TORCH_ONLY_OPTIONS
from .skips import optimizer_cpu_marks
from .torchdb import OptimizerInfo, optim_db, optim_inputs_with_impls

IMPLS = ("foreach", "fused", "differentiable")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
INFOS = {info.name: info for info in optim_db}
#: the test of torch's test_optim.py that runs an implementation (the for-loop one otherwise)
TORCH_TESTS = {"foreach": "test_foreach_matches_forloop", "fused": "test_fused_matches_forloop"}


@dataclass(frozen=True)
class OptimizerCase:
    """One run: the index of its input (in the cliquey-kwargs list for a plain case, in ``optim_inputs_func``
    for a scheduler case, None: two param groups) and of its ``scheduler_inputs`` list (None: a plain case)."""

    id: str
    optimizer: str
    dtype: str
    input_index: int | None
    schedulers: int | None = None
    torch_skip: str | None = None
    torch_xfail: str | None = None

    @property
    def info(self) -> OptimizerInfo:
        return INFOS[self.optimizer]


def scratch_optimizer(name: str) -> type | None:
    """scratch.optim's optimizer class of this name, or None."""
    cls = getattr(optim, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, optim.Optimizer) else None


def optimizer_classes() -> dict[str, type | None]:
    """Every optimizer in optim_db, by name, with scratch's class of that name (None: scratch lacks it)."""
    return {info.name: scratch_optimizer(info.name) for info in optim_db}


def optimizer_cases(dtype: Any) -> list[OptimizerCase]:
    """Every case of every optimizer scratch has, in ``dtype`` (float32 or float64)."""
    name = np.dtype(dtype).name
    cases: list[OptimizerCase] = []
    for info in optim_db:
        if scratch_optimizer(info.name) is not None:
            cases += _plain_cases(info, name) + _scheduler_cases(info, name)
    return cases


def all_optimizer_cases() -> list[OptimizerCase]:
    return optimizer_cases(np.float32) + optimizer_cases(np.float64)


def implementation(kwargs: dict[str, Any]) -> str:
    """The torch implementation flag an input sets ('foreach', 'fused', 'differentiable'), or ''."""
    return next((flag for flag in IMPLS if kwargs.get(flag)), "")


def _plain_cases(info: OptimizerInfo, dtype: str) -> list[OptimizerCase]:
    cases = []
    for index, optim_input in enumerate(cliquey_inputs(info, dtype)):
        impl = implementation(optim_input.kwargs)
        label = f"{info.name}/{_kwargs_label(optim_input.kwargs)}{'+' * bool(impl)}{impl}/{dtype}"
        test = TORCH_TESTS.get(impl, "test_forloop_goes_right_direction")
        cases.append(OptimizerCase(label, info.name, dtype, index, None,
                                   *optimizer_cpu_marks(info, test, DTYPES[dtype], {})))
    return cases


def _scheduler_cases(info: OptimizerInfo, dtype: str) -> list[OptimizerCase]:
    cases, inputs = [], plain_inputs(info, dtype)
    for sched_index, constructors in enumerate(info.scheduler_inputs):
        names = "+".join(_scheduler_names(constructors))
        marks = optimizer_cpu_marks(info, "test_forloop_goes_right_direction", DTYPES[dtype], {"with_lrsched": True})
        for index, optim_input in enumerate(inputs):
            label = f"{info.name}/{_kwargs_label(optim_input.kwargs)}/sched={names}/{dtype}"
            cases.append(OptimizerCase(label, info.name, dtype, index, sched_index, *marks))
        marks = optimizer_cpu_marks(info, "test_param_group_with_lrscheduler_goes_right_direction",
                                    DTYPES[dtype], {})
        cases.append(OptimizerCase(f"{info.name}/param_groups/sched={names}/{dtype}", info.name, dtype, None,
                                   sched_index, *marks))
    return cases


def cliquey_inputs(info: OptimizerInfo, dtype: str) -> list:
    """torch's inputs with its implementation flags; fresh each call (torch mutates a tensor lr in place)."""
    return optim_inputs_with_impls("cpu", DTYPES[dtype], info)


def plain_inputs(info: OptimizerInfo, dtype: str) -> list:
    """torch's inputs for its scheduler tests, which force the for-loop implementation."""
    inputs = info.optim_inputs_func("cpu", DTYPES[dtype])
    if "foreach" in info.supported_impls:
        for optim_input in inputs:
            optim_input.kwargs["foreach"] = False
    return inputs


def _kwargs_label(kwargs: dict[str, Any]) -> str:
    keys = [f"{k}=tensor" if isinstance(kwargs[k], torch.Tensor) else k
            for k in sorted(kwargs) if k not in TORCH_ONLY_OPTIONS]
    return ",".join(keys) or "default"


def _scheduler_names(constructors: list[Callable]) -> list[str]:
    dummy = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    return [type(make(dummy)).__name__ for make in constructors]
