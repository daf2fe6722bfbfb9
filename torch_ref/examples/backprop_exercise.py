r"""``backprop-exercise``: seed 001's hand-computed 2-2-1 sigmoid network (Exercícios 2-4), with its
numbers: one sample x = (0.05, 0.10), target y = 0.01, loss L = ½ (ŷ - y)², SGD with η = 0.5.

The seed writes W(1) input-by-neuron: z1 = 0.15 x1 + 0.25 x2 + 0.35, so neuron 1's weights are its
first *column*, and torch's (out, in) weight is the transpose."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from scratch import nn
from scratch.training import accuracy
from torch_ref.convert import register_twin

from . import Example, register

W1_SEED = [[0.15, 0.20], [0.25, 0.30]]
B1, W2, B2 = [0.35, 0.35], [[0.40, 0.45]], [0.60]
X_001, Y_001 = np.array([[0.05, 0.10]]), np.array([[0.01]])


class HalfSquaredError(nn.MSELoss):
    r"""The seed's loss :math:`L = \tfrac12 \sum_n (x_n - y_n)^2`: half of MSELoss(reduction='sum').

    Gradient: :math:`\partial L / \partial x_n = x_n - y_n`.

    Shape: input (*), target (*) the same shape; output ().
    """

    def __init__(self) -> None:
        super().__init__(reduction="sum")

    def forward(self, input: np.ndarray, target: np.ndarray) -> np.ndarray:
        return 0.5 * super().forward(input, target)

    def backward(self, grad: Any = None) -> np.ndarray:
        return super().backward(0.5 if grad is None else 0.5 * grad)

    def extra_repr(self) -> str:
        return ""


class TorchHalfSquaredError(torch.nn.MSELoss):
    """HalfSquaredError's torch twin: ½ MSELoss(reduction='sum')."""

    def __init__(self) -> None:
        super().__init__(reduction="sum")

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return 0.5 * super().forward(input, target)


register_twin(HalfSquaredError, lambda module: TorchHalfSquaredError(), torch_cls=TorchHalfSquaredError,
              reverse=lambda module: HalfSquaredError())


def build_model(dtype: np.dtype, rng: np.random.Generator | None = None) -> nn.Sequential:
    """2-2-1, a sigmoid after each layer, holding the seed's weights and biases (``rng`` unused)."""
    model = nn.Sequential(nn.Linear(2, 2, dtype=dtype), nn.Sigmoid(), nn.Linear(2, 1, dtype=dtype), nn.Sigmoid())
    state = {"0.weight": np.transpose(W1_SEED), "0.bias": B1, "2.weight": W2, "2.bias": B2}
    model.load_state_dict({key: np.asarray(value, dtype=dtype) for key, value in state.items()})
    return model


def load_data(rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The seed's single sample, for training and for testing."""
    return X_001.copy(), Y_001.copy(), X_001.copy(), Y_001.copy()


def describe(model: nn.Module, x: np.ndarray) -> str:
    out = np.asarray(model(x))[:, 0]
    return "\n".join(f"x = ({a:g}, {b:g}) -> y_hat = {p:.4f} (target {Y_001[0, 0]:g})" for (a, b), p in zip(x, out))


EXAMPLE = register(Example(
    name="backprop-exercise",
    description="seed 001: the hand-computed 2-2-1 sigmoid network, L = 1/2 (y_hat - y)^2, SGD lr 0.5",
    build_model=build_model, criterion=HalfSquaredError, load_data=load_data,
    optimizer="SGD", lr=0.5, epochs=100, batch_size=None, accuracy=accuracy, describe=describe))
