"""Recording what each module of both engines sees during one training step.

Each scratch module (and the criterion) gets instance attributes ``forward`` and ``backward`` for the run,
calling the module's own methods (a user's subclass is honoured) and keeping copies of what goes in and
out; the torch twin gets forward hooks and full backward hooks.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from scratch import nn
from scratch import random as scratch_random

from ..arrays import indexed_names, leaves, to_numpy, tree_map


@dataclass
class Tape:
    """What one engine's modules saw during one step, by module name, as NumPy copies."""

    order: list[str] = field(default_factory=list)  # the modules in the order their forward finished, once per call
    backward_order: list[str] = field(default_factory=list)  # ... and their backward
    inputs: dict[str, tuple] = field(default_factory=dict)
    kwargs: dict[str, dict] = field(default_factory=dict)  # scratch only: the keyword arguments (masks, flags)
    outputs: dict[str, list] = field(default_factory=dict)
    grad_outputs: dict[str, tuple] = field(default_factory=dict)
    grad_inputs: dict[str, list] = field(default_factory=dict)
    rng_states: dict[str, Any] = field(default_factory=dict)
    # scratch only: where the arrays of ``outputs`` / ``grad_inputs`` sit in the structure the module
    # returned (True at each array, None elsewhere), so torch's values can stand in for them
    output_skeletons: dict[str, Any] = field(default_factory=dict)
    grad_input_skeletons: dict[str, Any] = field(default_factory=dict)


def ran_alike(scratch_order: list[str], torch_order: list[str]) -> list[str]:
    """The modules both engines called, and as often, each once, in scratch's order. A tape keeps a module's
    last call, so one called a different number of times cannot be compared: torch's
    TripletMarginWithDistanceLoss calls its distance once per pair, scratch's once on the stacked pairs."""
    return list(dict.fromkeys(n for n in scratch_order if scratch_order.count(n) == torch_order.count(n)))


def pairs(base: str, ours: list, theirs: list | None) -> list[tuple[str, Any, Any]]:
    """(quantity, scratch value, torch value) for each recorded array: ``base``, or ``base[i]`` for several."""
    theirs = [] if theirs is None else theirs
    n = max(len(ours), len(theirs), 1)
    return [(name, ours[i] if i < len(ours) else None, theirs[i] if i < len(theirs) else None)
            for i, name in enumerate(indexed_names(base, n))]


def copy_tree(tree: Any) -> list:
    return [to_numpy(leaf, copy=True) for leaf in leaves(tree) if leaf is not None]


def skeleton(tree: Any) -> Any:
    """``tree``'s structure with True for each leaf ``copy_tree`` keeps and None for each it drops."""
    return tree_map(lambda leaf: None if leaf is None else True, tree)


def fill(skeleton: Any, values: list) -> Any:
    """The structure of ``skeleton`` with ``values`` (copies, in order) at its True leaves."""
    remaining = iter(values)
    return tree_map(lambda mark: None if mark is None else np.array(next(remaining), copy=True), skeleton)


def count(skeleton: Any) -> int:
    return sum(1 for mark in leaves(skeleton) if mark is not None)


def generator_of(module: nn.Module) -> np.random.Generator | None:
    if "rng" not in vars(module) and not hasattr(type(module), "rng"):
        return None
    rng = getattr(module, "rng", None)
    return rng if isinstance(rng, np.random.Generator) else scratch_random.default_generator()


def record_scratch(module: nn.Module, name: str, tapes: dict[str, Tape]) -> None:
    """Install recording ``forward``/``backward`` instance attributes on a scratch module."""
    forward, backward = module.forward, module.backward

    def recorded_forward(*args: Any, **kwargs: Any) -> Any:
        tape = tapes["scratch"]
        generator = generator_of(module)
        tape.rng_states[name] = None if generator is None else copy.deepcopy(generator.bit_generator.state)
        tape.inputs[name] = tuple(to_numpy(a, copy=True) for a in args)
        tape.kwargs[name] = {k: to_numpy(v, copy=True) for k, v in kwargs.items()}
        out = forward(*args, **kwargs)
        tape.outputs[name], tape.output_skeletons[name] = copy_tree(out), skeleton(out)
        tape.order.append(name)
        return out

    def recorded_backward(*grads: Any) -> Any:
        tape = tapes["scratch"]
        tape.grad_outputs[name] = tuple(to_numpy(g, copy=True) for g in grads)
        grad_input = backward(*grads)
        tape.grad_inputs[name], tape.grad_input_skeletons[name] = copy_tree(grad_input), skeleton(grad_input)
        tape.backward_order.append(name)
        return grad_input

    object.__setattr__(module, "forward", recorded_forward)
    object.__setattr__(module, "backward", recorded_backward)


def stop_recording(module: nn.Module, saved: dict[str, Any]) -> None:
    for attr in ("forward", "backward"):
        module.__dict__.pop(attr, None)
        if attr in saved:
            object.__setattr__(module, attr, saved[attr])


def record_torch(module: torch.nn.Module, name: str, tapes: dict[str, Tape]) -> list:
    def on_forward(_: Any, args: tuple, output: Any) -> None:
        tapes["torch"].inputs[name] = tuple(to_numpy(a, copy=True) for a in args)
        tapes["torch"].outputs[name] = copy_tree(output)
        tapes["torch"].order.append(name)

    def on_backward(_: Any, grad_input: tuple, grad_output: tuple) -> None:
        tapes["torch"].grad_outputs[name] = tuple(to_numpy(g, copy=True) for g in grad_output)
        tapes["torch"].grad_inputs[name] = copy_tree(grad_input)
        tapes["torch"].backward_order.append(name)

    return [module.register_forward_hook(on_forward), module.register_full_backward_hook(on_backward)]


@contextmanager
def record_tree(model: nn.Module, twin: torch.nn.Module) -> Iterator[dict[str, Tape]]:
    """Record every module inside ``model`` (not the model itself) and inside its twin while the block runs;
    the twin's ``inplace`` flags are off meanwhile (full backward hooks reject in-place modules)."""
    tapes = {"scratch": Tape(), "torch": Tape()}
    modules = {n: m for n, m in model.named_modules() if n}
    twin_modules = dict(twin.named_modules())
    torch_modules = {n: twin_modules[n] for n in modules if n in twin_modules}
    saved: dict[str, dict[str, Any]] = {n: {a: m.__dict__[a] for a in ("forward", "backward") if a in m.__dict__}
                                        for n, m in modules.items()}
    inplace = [m for m in torch_modules.values() if getattr(m, "inplace", False) is True]
    for name, module in modules.items():
        record_scratch(module, name, tapes)
    for module in inplace:
        module.inplace = False
    handles = [h for name, m in torch_modules.items() for h in record_torch(m, name, tapes)]
    try:
        yield tapes
    finally:
        for name, module in modules.items():
            stop_recording(module, saved[name])
        for handle in handles:
            handle.remove()
        for module in inplace:
            module.inplace = True
