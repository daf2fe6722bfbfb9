"""torch's error inputs (``ModuleInfo.module_error_inputs_func``) run on scratch: where torch raises its stated
error, scratch must raise too, an exception of the same kind.

Each error input is built and run as torch's ``test_errors`` does it: the constructor from the input's
arguments (no ``.to(dtype)``; scratch gets them converted by ``arguments.py``), ``train(training)``, and the
forward for a FORWARD_ERROR input; both modes only for a module whose train and eval modes differ. An input
on which torch itself does not raise its stated type and message (its eval-mode BatchNorm inputs in torch
2.13) raises ``TorchSkipError`` with that reason. scratch may raise earlier than torch (at construction where
torch raises in forward). "Same kind" is torch's exception type or, where torch raises its catch-all
RuntimeError, a ValueError, TypeError or IndexError (``same_error_kind``).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..report import Comparison, ParityResult
from .arguments import to_scratch_arguments, torch_copy
from .module_cases import DTYPES, MODES, SEED, case_class, dtype_name, scratch_class
from .skips import TorchSkipError
from .torchdb import ErrorModuleInput, ModuleErrorEnum, ModuleInfo, module_db

#: torch's kernels raise RuntimeError for any bad argument; scratch raises ValueError/TypeError/IndexError there.
RUNTIME_ERROR_EQUIVALENTS = (ValueError, TypeError, IndexError)


@functools.cache
def module_error_inputs(info: ModuleInfo, dtype: torch.dtype, training: bool) -> tuple[ErrorModuleInput, ...]:
    torch.manual_seed(SEED)
    return tuple(info.module_error_inputs_func(info, device="cpu", dtype=dtype, requires_grad=False,
                                               training=training))


@dataclass(frozen=True)
class ErrorCase:
    """One ``module_error_inputs_func`` input; ``id`` reads 'RNN/error/3/float32/train'."""

    id: str
    info: ModuleInfo
    index: int
    dtype: torch.dtype
    training: bool

    @property
    def name(self) -> str:
        return self.info.module_cls.__name__

    def error_input(self) -> ErrorModuleInput:
        return module_error_inputs(self.info, self.dtype, self.training)[self.index]


def error_cases(dtype: torch.dtype, training: bool, infos: Iterable[ModuleInfo] = module_db) -> Iterator[ErrorCase]:
    """The error inputs of the classes scratch has, in the modes torch's test_errors runs (eval only for a
    module whose train and eval modes differ)."""
    mode = "train" if training else "eval"
    for info in infos:
        name = info.module_cls.__name__
        if (scratch_class(name) is None or info.module_error_inputs_func is None
                or dtype not in info.supported_dtypes("cpu") or not (training or info.train_and_eval_differ)):
            continue
        for index in range(len(module_error_inputs(info, dtype, training))):
            yield ErrorCase(f"{name}/error/{index}/{dtype_name(dtype)}/{mode}", info, index, dtype, training)


def all_error_cases(infos: Iterable[ModuleInfo] = module_db) -> list[ErrorCase]:
    infos = tuple(infos)
    return [case for dtype in DTYPES for training in MODES for case in error_cases(dtype, training, infos)]


def _raises(cls: type, error: ErrorModuleInput, training: bool,
            convert: Callable[[Any], Any]) -> tuple[str, BaseException | None]:
    """(stage, exception) of building ``cls`` from the error input's arguments and running its forward, as
    torch's test_errors does (no ``.to(dtype)``); ``convert`` maps torch's arguments to the engine's."""
    sample, stage = error.module_error_input, "constructor"
    try:
        module = cls(*convert(sample.constructor_input.args), **convert(sample.constructor_input.kwargs))
        module.train(training)
        if error.error_on == ModuleErrorEnum.FORWARD_ERROR:
            stage = "forward"
            module(*convert(sample.forward_input.args), **convert(sample.forward_input.kwargs))
    except Exception as exc:
        return stage, exc
    return stage, None


def same_error_kind(ours: BaseException, theirs: type) -> bool:
    """scratch's exception is of torch's type or, where torch raises its catch-all RuntimeError, a
    ValueError, TypeError or IndexError (scratch's house style for bad input)."""
    return isinstance(ours, theirs) or (theirs is RuntimeError and isinstance(ours, RUNTIME_ERROR_EQUIVALENTS))


def _matches(regex: str, message: str) -> bool:
    """``re.search``, quiet about torch's own regexes that hold "[[" (Python warns of a future nested set)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.search(regex, message) is not None


def run_error_case(case: ErrorCase) -> ParityResult:
    """Where torch raises its stated error (checked here: else ``TorchSkipError``), scratch must raise too,
    an exception of the same kind (``same_error_kind``)."""
    error, result = case.error_input(), ParityResult()
    stage, theirs = _raises(case.info.module_cls, error, case.training, torch_copy)
    if theirs is None or not isinstance(theirs, error.error_type) or not _matches(error.error_regex, str(theirs)):
        raise TorchSkipError(f"torch's own expectation fails here: {error.error_type.__name__} matching "
                             f"{error.error_regex!r} expected, torch raised {theirs!r}")
    our_stage, ours = _raises(case_class(case.name), error, case.training, to_scratch_arguments)
    expected = f"torch raises {type(theirs).__name__} at {stage}: {theirs}"
    if ours is None:
        result.comparisons.append(Comparison("raises", np.inf, np.inf, 0.0, False,
                                             f"scratch raised nothing; {expected}"))
        return result
    said = f"scratch raised {type(ours).__name__} at {our_stage}: {ours}"
    kind_ok = same_error_kind(ours, error.error_type)
    result.comparisons.append(Comparison("raises", 0.0, 0.0, 0.0, True, said))
    result.comparisons.append(Comparison("error kind", 0.0 if kind_ok else np.inf, 0.0, 0.0, kind_ok,
                                         f"{said}; {expected}"))
    return result
