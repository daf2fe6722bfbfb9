"""The examples behind ``parity train EXAMPLE`` and ``parity explain EXAMPLE``: a scratch model, its
loss, its data and its default training options, one file per example, registered here by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scratch import nn

# x_train, y_train, x_test, y_test (the test set None where an example has none)
Split = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]


@dataclass(frozen=True)
class Example:
    """One trainable example. ``load_data(rng)`` returns float64 inputs (cast by the caller) and targets;
    ``accuracy(output, target)`` is the fraction right; ``describe(model, x)`` optionally shows predictions.
    ``optimizer_options`` go to the example's optimizer besides ``lr``; ``scheduler`` and ``max_grad_norm`` are
    ``torch_ref.training.compare``'s; ``steps`` (None: epochs x batches) is the default run's length;
    ``sample(model, twin)`` optionally shows what both trained engines generate."""

    name: str
    description: str
    build_model: Callable[[np.dtype, np.random.Generator], nn.Module]
    criterion: Callable[[], nn.Module]
    load_data: Callable[[np.random.Generator], Split]
    optimizer: str = "Adam"
    lr: float = 1e-2
    epochs: int = 100
    batch_size: int | None = None  # None: the whole training set in one batch
    accuracy: Callable[[np.ndarray, np.ndarray], float] | None = None
    describe: Callable[[nn.Module, np.ndarray], str] | None = None
    optimizer_options: dict[str, Any] = field(default_factory=dict)
    scheduler: Callable[[Any, Any, int], Any] | None = None
    max_grad_norm: float | None = None
    steps: int | None = None
    sample: Callable[[nn.Module, Any], str] | None = None


EXAMPLES: dict[str, Example] = {}


def register(example: Example) -> Example:
    EXAMPLES[example.name] = example
    return example


def get(name: str) -> Example:
    """The example called ``name``; a KeyError whose message lists the known ones otherwise."""
    if name not in EXAMPLES:
        raise KeyError(f"unknown example {name!r}; known: {', '.join(sorted(EXAMPLES))}")
    return EXAMPLES[name]


# The examples register themselves on import; imported last, since they use Example and register.
from . import backprop_exercise, char_gpt, digits, letters, xor  # noqa: E402,F401
