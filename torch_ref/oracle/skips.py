"""Where torch itself does not run a case: the only reason the oracle skips one.

- ``TorchSkipError``: raised by a runner where torch itself raises on a case's input (its module's
  constructor or forward, its optimizer or scheduler), or where torch's own test skips it on the CPU.
- ``module_cpu_skips``: the DecorateInfos of a ModuleInfo, evaluated as ``test/test_modules.py`` would for
  ``TestModule.<test>`` on the CPU in one dtype and mode (``DecorateInfo.is_active``), reporting those whose
  decorators skip the test or expect it to fail. Whether a decorator does is found by applying it to a probe
  test and calling that as a CPU test, so device-aware wrappers (``skipIf(..., device_type='mps')``,
  ``expectedFailure('cuda')``) decide as they would there; tolerance and precision overrides are neither.
- ``optimizer_cpu_marks``: the same for an OptimizerInfo's decorators of ``TestOptimRenewed.<test>``.
"""

from __future__ import annotations

import unittest
from collections.abc import Iterable
from typing import Any

import torch

from .torchdb import ModuleInfo, OptimizerInfo

#: The tests of torch's test/test_modules.py (TestModule) that a ModuleInfo's skips can name.
TEST_MODULE_TESTS = ("test_forward", "test_factory_kwargs", "test_repr", "test_pickle", "test_check_inplace",
                     "test_non_contiguous_tensors", "test_grad", "test_gradgrad", "test_memory_format",
                     "test_if_train_and_eval_modes_differ", "test_device_ctx_init", "test_errors")


class TorchSkipError(Exception):
    """torch itself raises on this case's input, or skips the case on the CPU: nothing to compare."""


def _decorator_effect(decorator: Any, dtype: torch.dtype) -> str | None:
    """What a test decorator does to a CPU test: 'skip: reason', 'expected failure', or None."""
    def probe(self: Any, *args: Any, **kwargs: Any) -> str:
        return "ran"

    class CpuTest:
        device_type = "cpu"

        def fail(self, msg: str) -> None:
            raise AssertionError(msg)

    try:
        wrapped = decorator(probe)
        if getattr(wrapped, "__unittest_skip__", False):
            return f"skip: {getattr(wrapped, '__unittest_skip_why__', '')}"
        if getattr(wrapped, "__unittest_expecting_failure__", False):
            return "expected failure"
        wrapped(CpuTest(), dtype=dtype)
    except unittest.SkipTest as exc:
        return f"skip: {exc}"
    except AssertionError:  # torch's expectedFailure(device) wrapper: the probe passed where a failure was expected
        return "expected failure"
    except Exception:  # a wrapper that needs more of a test instance (a tolerance override): not a skip
        return None
    return None


def module_cpu_skips(info: ModuleInfo, dtype: torch.dtype, training: bool,
                     tests: Iterable[str] = TEST_MODULE_TESTS) -> dict[str, str]:
    """The test_modules tests that torch skips or expects to fail for this CPU case -> why."""
    found = {}
    params = {"module_info": info, "dtype": dtype, "training": training, "device": "cpu"}
    for test in tests:
        for item in info.decorators:  # a DecorateInfo, or a plain decorator that applies to every test
            if not hasattr(item, "is_active"):
                decorators: Iterable[Any] = (item,)
            else:
                decorators = item.decorators if item.is_active("TestModule", test, "cpu", dtype, params) else ()
            for decorator in decorators:
                effect = _decorator_effect(decorator, dtype)
                if effect:
                    found[test] = effect
    return found


def optimizer_cpu_marks(info: OptimizerInfo, test: str, dtype: torch.dtype,
                        extra: dict) -> tuple[str | None, str | None]:
    """(skip reason, expected-failure reason) where torch's OptimizerInfo skips or expects to fail
    ``TestOptimRenewed.<test>`` on the CPU in ``dtype``; ``extra``: that test's own parameters."""
    kwargs = {"optim_info": info, "dtype": dtype, **extra}
    try:
        decorators = info.get_decorators("TestOptimRenewed", test, "cpu", dtype, kwargs)
    except (KeyError, TypeError):  # an active_if written for another test's parameters
        decorators = []
    for decorator in decorators:
        effect = _decorator_effect(decorator, dtype)
        if effect == "expected failure":
            return None, f"torch expects {test} to fail on CPU"
        if effect:
            return f"torch {effect.replace('skip:', f'skips {test} on CPU:')}", None
    return None, None
