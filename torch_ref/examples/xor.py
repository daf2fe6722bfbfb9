"""``xor``: the four XOR points, a 2-8-1 network with a tanh hidden layer and a sigmoid output, BCELoss."""

from __future__ import annotations

import numpy as np

from scratch import nn
from scratch.training import accuracy

from . import Example, register

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)
HIDDEN = 8


def build_model(dtype: np.dtype, rng: np.random.Generator | None = None) -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, HIDDEN, dtype=dtype, rng=rng), nn.Tanh(),
                         nn.Linear(HIDDEN, 1, dtype=dtype, rng=rng), nn.Sigmoid())


def load_data(rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All four points, for training and for testing (XOR has nothing to hold out)."""
    return X.copy(), Y.copy(), X.copy(), Y.copy()


def describe(model: nn.Module, x: np.ndarray) -> str:
    """One line per input, e.g. ``0 xor 1 -> 0.98 (1)``."""
    out = np.asarray(model(x))[:, 0]
    return "\n".join(f"{int(a)} xor {int(b)} -> {p:.2f} ({int(p > 0.5)})" for (a, b), p in zip(x, out))


EXAMPLE = register(Example(
    name="xor", description="XOR of two bits: 2-8-1, tanh hidden layer, sigmoid output, BCELoss, Adam",
    build_model=build_model, criterion=nn.BCELoss, load_data=load_data,
    optimizer="Adam", lr=0.05, epochs=300, batch_size=None, accuracy=accuracy, describe=describe))
