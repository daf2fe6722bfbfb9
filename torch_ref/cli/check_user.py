"""``parity check --module package.module:ClassName``: a layer (or, with ``--loss``, a loss) of one's own, run
side by side with its torch twin like a catalog entry, one row per dtype.

The class is imported (its module may register the twin at import, ``torch_ref.register_twin``, or
``--twin package.module:factory`` does), built with ``--args``' JSON keyword arguments (and ``dtype=`` when
its constructor takes one and ``--args`` does not set it), and fed inputs drawn from a normal distribution
of each ``--input-shape`` (seed 0), or the arrays of ``--input`` files; float inputs take each dtype run.
The class is looked up from the current directory first, then sys.path.
A usage error (a bad option, an import that fails, no twin, bad JSON or shape) is one line on stderr and
exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from scratch import nn

from ..catalog.case import Case, loss_case, module_case
from .common import UsageError


def import_object(spec: str, option: str) -> Any:
    """``package.module:Name`` (``Name`` may be dotted, ``Outer.Inner``) imported, the current directory first
    on sys.path (as ``python -m`` has it; the ``parity`` script alone would not)."""
    module_name, _, qualname = spec.partition(":")
    if not module_name or not qualname:
        raise UsageError(f"{option} expects package.module:Name, got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as error:  # the user's module may fail in any way: one line, not a traceback
        raise UsageError(f"{option}: cannot import {module_name!r}: {type(error).__name__}: {error}") from None
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{option}: module {module_name!r} has no attribute {qualname!r}")
        obj = getattr(obj, part)
    return obj


def parse_kwargs(text: str) -> dict[str, Any]:
    try:
        kwargs = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"--args is not valid JSON ({error}): {text!r}") from None
    if not isinstance(kwargs, dict):
        raise UsageError(f"--args must be a JSON object of keyword arguments, got {text!r}")
    return kwargs


def parse_shape(text: str, option: str) -> tuple[int, ...]:
    """``"4,3"`` -> (4, 3); ``""`` -> () for a 0-d input."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise UsageError(f"{option} expects non-negative integers separated by commas (e.g. 4,3), got {text!r}")
    return tuple(int(p) for p in parts)


def load_array(path: str, option: str) -> np.ndarray:
    try:
        return np.load(Path(path), allow_pickle=False)
    except (OSError, ValueError) as error:
        raise UsageError(f"{option}: cannot read {path!r} as a .npy array: {error}") from None


def sources(shapes: list[str] | None, files: list[str] | None, option: str) -> list[tuple[int, ...] | np.ndarray]:
    """Each input as a shape to draw (``--<option>-shape``) or an array read (``--<option>``)."""
    if shapes:
        return [parse_shape(s, f"--{option}-shape") for s in shapes]
    return [load_array(f, f"--{option}") for f in files or []]


def materialize(source: tuple[int, ...] | np.ndarray, dtype: np.dtype, rng: np.random.Generator) -> np.ndarray:
    """A shape drawn from N(0, 1); a file's float array in ``dtype`` (the run's dtype), any other array as it is."""
    if isinstance(source, tuple):
        return rng.standard_normal(source).astype(dtype)
    return source.astype(dtype) if np.issubdtype(source.dtype, np.floating) else source


def component_class(spec: str) -> type:
    cls = import_object(spec, "--module")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise UsageError(f"--module: {spec} is not a scratch.nn.Module subclass (got {cls!r})")
    return cls


def builder(cls: type, kwargs: dict[str, Any]) -> Any:
    """``build(dtype)``: ``cls(**kwargs)``, with ``dtype=`` added when the constructor takes one."""
    parameters = inspect.signature(cls).parameters
    takes_dtype = "dtype" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    return lambda dtype: cls(**kwargs, dtype=dtype) if takes_dtype and "dtype" not in kwargs else cls(**kwargs)


def preflight(case: Case, dtype: np.dtype) -> None:
    """Build the component and its torch twin and run its forward once, so that bad arguments, a missing twin
    or inputs it rejects (a ValueError: a wrong shape or dtype) are usage errors, not a row."""
    from ..twins.registry import build_torch

    if case.make is None:  # user_case builds module and loss cases, which have one
        raise UsageError(f"cannot build {case.name}: a {case.kind} case has no make")
    try:
        made = case.make(dtype, np.random.default_rng(0))
    except Exception as error:
        raise UsageError(f"cannot build {case.name}: {type(error).__name__}: {error}") from None
    if case.kind == "module":
        module, inputs = made[0], list(made[1])
    else:  # a loss: (criterion, input or a tuple of inputs, target)
        module, inputs = made[0], [*(made[1] if isinstance(made[1], tuple) else (made[1],)), made[2]]
    try:
        build_torch(module)
    except TypeError as error:
        raise UsageError(f"{case.name}: {error} (in its module, at import, or with --twin package.module:factory)") \
            from None
    try:
        module(*inputs)
    except ValueError as error:
        shapes = ", ".join(str(np.shape(x)) for x in inputs)
        raise UsageError(f"{case.name} rejects inputs of shapes {shapes}: {error}") from None


def user_case(args: argparse.Namespace) -> Case:
    """The catalog case of the user's component: its name, and ``make(dtype, rng)`` building it and its inputs."""
    cls = component_class(args.module)
    if args.twin:
        from ..convert import register_twin

        register_twin(cls, import_object(args.twin, "--twin"))
    kwargs = parse_kwargs(args.args)
    name = f"{cls.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    inputs = sources(args.input_shape, args.input, "input")
    if not inputs:
        raise UsageError("--module needs its inputs: --input-shape 4,3 or --input FILE.npy (repeat for several)")
    build = builder(cls, kwargs)
    if not args.loss and (args.target or args.target_shape):
        raise UsageError("--target and --target-shape go with --loss")
    if not args.loss:
        return module_case(name, lambda d, r: (build(d), [materialize(s, d, r) for s in inputs]))
    targets = sources([args.target_shape] if args.target_shape else None, [args.target] if args.target else None,
                      "target")
    if len(targets) != 1:
        raise UsageError("--loss needs its target: --target-shape 4 or --target FILE.npy")

    def make(d: np.dtype, r: np.random.Generator) -> tuple:
        xs = [materialize(s, d, r) for s in inputs]
        return build(d), xs[0] if len(xs) == 1 else tuple(xs), materialize(targets[0], d, r)
    return loss_case(name, make)


def add_arguments(check: argparse.ArgumentParser) -> None:
    """The options of ``parity check --module``."""
    user = check.add_argument_group("your own component", "check a scratch.nn.Module of your own instead of the "
                                    "catalog (exit status 2 on a usage error)")
    user.add_argument("--module", metavar="PKG.MOD:CLASS",
                      help="the class to check, imported from the current directory or sys.path")
    user.add_argument("--args", default="{}", metavar="JSON", help="its keyword arguments as a JSON object")
    user.add_argument("--twin", metavar="PKG.MOD:FACTORY", help="factory(module) -> torch twin, if its module "
                      "does not call torch_ref.register_twin at import")
    source = user.add_mutually_exclusive_group()
    source.add_argument("--input-shape", action="append", metavar="4,3", help="draw an input of this shape "
                        "from N(0, 1), seed 0 (repeat for several inputs)")
    source.add_argument("--input", action="append", metavar="FILE.npy", help="an input read from a .npy file "
                        "(float arrays take each --dtype; repeat for several inputs)")
    user.add_argument("--loss", action="store_true", help="the class is a loss: forward(input, target)")
    target = user.add_mutually_exclusive_group()
    target.add_argument("--target-shape", metavar="4", help="--loss: a target of this shape from N(0, 1)")
    target.add_argument("--target", metavar="FILE.npy", help="--loss: the target from a .npy file (class indices)")
