"""Recording what each module of both engines sees during one training step.

Each scratch module (and the criterion) gets instance attributes ``forward`` and ``backward`` for the run,
calling the module's own methods (a user's subclass is honoured) and keeping copies of what goes in and
out; the torch twin gets forward hooks and full backward hooks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from scratch import nn
from scratch import random as scratch_random

from ..arrays import leaves, to_numpy


@dataclass
class Tape:
    """What one engine's modules saw during one step, by module name, as NumPy copies."""

    order: list[str] = field(default_factory=list)
    inputs: dict[str, tuple] = field(default_factory=dict)
    outputs: dict[str, list] = field(default_factory=dict)
    grad_outputs: dict[str, tuple] = field(default_factory=dict)
    grad_inputs: dict[str, list] = field(default_factory=dict)
    rng_states: dict[str, Any] = field(default_factory=dict)


def copy_tree(tree: Any) -> list:
    return [to_numpy(leaf, copy=True) for leaf in leaves(tree) if leaf is not None]


def generator_of(module: nn.Module) -> np.random.Generator | None:
    if "rng" not in vars(module) and not hasattr(type(module), "rng"):
        return None
    rng = getattr(module, "rng", None)
    return rng if isinstance(rng, np.random.Generator) else scratch_random.defaultgenerator_of()


def record_scratch(module: nn.Module, name: str, tapes: dict[str, Tape]) -> None:
    """Install recording ``forward``/``backward`` instance attributes on a scratch module."""
    forward, backward = module.forward, module.backward

    def recorded_forward(*args: Any, **kwargs: Any) -> Any:
        tape = tapes["scratch"]
        generator = generator_of(module)
        tape.rng_states[name] = None if generator is None else copy.deepcopy(generator.bit_generator.state)
        tape.inputs[name] = tuple(to_numpy(a, copy=True) for a in args)
        out = forward(*args, **kwargs)
        tape.outputs[name] = copy_tree(out)
        tape.order.append(name)
        return out

    def recorded_backward(*grads: Any) -> Any:
        tapes["scratch"].grad_outputs[name] = tuple(to_numpy(g, copy=True) for g in grads)
        grad_input = backward(*grads)
        tapes["scratch"].grad_inputs[name] = copy_tree(grad_input)
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

    def on_backward(_: Any, grad_input: tuple, grad_output: tuple) -> None:
        tapes["torch"].grad_outputs[name] = tuple(to_numpy(g, copy=True) for g in grad_output)
        tapes["torch"].grad_inputs[name] = copy_tree(grad_input)

    return [module.register_forward_hook(on_forward), module.register_full_backward_hook(on_backward)]
