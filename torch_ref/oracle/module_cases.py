"""The cases of the module oracle: one per ``ModuleInput`` of torch's ``module_db`` that torch runs on the CPU,
for every ``torch.nn`` class that ``scratch.nn`` has (by name), in each dtype and mode.

``ModuleInfo.module_inputs_func`` yields, per class, ``ModuleInput``\\ s (constructor args and kwargs, forward
args and kwargs). The samples are drawn once per (class, dtype, mode) from a fixed seed, with
``requires_grad=True`` as torch's test_grad asks for them, and each case reads its own by index.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
from torch.nn.utils.rnn import PackedSequence

from scratch import nn

from .skips import module_cpu_skips
from .torchdb import ModuleInfo, ModuleInput, module_db

DTYPES = (torch.float64, torch.float32)
MODES = (True, False)  # training, eval
SEED = 0
#: torch's test_modules tests whose CPU skips are mirrored, and what each covers here.
MIRRORED = {"test_forward": "case", "test_grad": "gradients"}


def scratch_class(name: str) -> type | None:
    """scratch.nn's module class of this name, or None."""
    cls = getattr(nn, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, nn.Module) else None


def case_class(name: str) -> type:
    """``scratch_class`` of a case's module: the cases are made for scratch's classes only."""
    cls = scratch_class(name)
    if cls is None:
        raise LookupError(f"scratch.nn has no module {name}")
    return cls


def module_classes(infos: Iterable[ModuleInfo] = module_db) -> dict[str, bool]:
    """Each class name in module_db (in its order) -> whether scratch.nn has it."""
    return {info.module_cls.__name__: scratch_class(info.module_cls.__name__) is not None for info in infos}


@functools.cache
def module_inputs(info: ModuleInfo, dtype: torch.dtype, training: bool) -> tuple[ModuleInput, ...]:
    """torch's sample inputs for one (class, dtype, mode), drawn from a fixed seed; then, where the sample
    function has them, its PackedSequence samples (RNN's and GRU's ``with_packed_sequence``, which torch's own
    test_cpu_gpu_parity turns on and module_db's default leaves off), drawn after the others and appended, so the
    other samples keep their draws and their indices."""
    torch.manual_seed(SEED)
    options = {"device": "cpu", "dtype": dtype, "requires_grad": True, "training": training}
    samples = tuple(info.module_inputs_func(info, **options))
    if "with_packed_sequence" not in inspect.signature(info.module_inputs_func).parameters:
        return samples
    more = info.module_inputs_func(info, **options, with_packed_sequence=True)
    return samples + tuple(s for s in more if s.forward_input is not None and any(
        isinstance(arg, PackedSequence) for arg in s.forward_input.args))


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


@dataclass(frozen=True)
class ModuleCase:
    """One ModuleInput of one ModuleInfo in one dtype and mode; ``id`` reads 'Linear/3/float32/train'."""

    id: str
    info: ModuleInfo
    index: int
    dtype: torch.dtype
    training: bool
    desc: str
    torch_skips: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.info.module_cls.__name__

    def module_input(self) -> ModuleInput:
        return module_inputs(self.info, self.dtype, self.training)[self.index]

    def skipped_by_torch(self, covers: str) -> str | None:
        """Why torch skips what this case's ``covers`` ('case' or 'gradients') compares, if it does
        (torch runs test_grad in float64 only)."""
        for test, effect in self.torch_skips:
            if MIRRORED.get(test) == covers and (test != "test_grad" or self.dtype == torch.float64):
                return f"torch's own TestModule.{test} on CPU {dtype_name(self.dtype)}: {effect}"
        return None


def module_cases(dtype: torch.dtype, training: bool, infos: Iterable[ModuleInfo] = module_db) -> Iterator[ModuleCase]:
    """The cases of every ModuleInfo scratch has a class for, whose dtypes on the CPU include ``dtype``
    (a sample without a forward input is skipped by torch's tests too, and left out here)."""
    mode = "train" if training else "eval"
    for info in infos:
        name = info.module_cls.__name__
        if scratch_class(name) is None or dtype not in info.supported_dtypes("cpu"):
            continue
        skips = tuple(module_cpu_skips(info, dtype, training, MIRRORED).items())
        for index, sample in enumerate(module_inputs(info, dtype, training)):
            if sample.forward_input is not None:
                yield ModuleCase(f"{name}/{index}/{dtype_name(dtype)}/{mode}", info, index, dtype, training,
                                 sample.desc, skips)


def all_module_cases(infos: Iterable[ModuleInfo] = module_db) -> list[ModuleCase]:
    """Every case, in every dtype and mode."""
    infos = tuple(infos)
    return [case for dtype in DTYPES for training in MODES for case in module_cases(dtype, training, infos)]
