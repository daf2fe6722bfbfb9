"""``digits`` and ``digits-cnn``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, shipped
inside the package, no download), standardized, with a stratified held-out test split; an MLP and a
small CNN, both trained with Adam on CrossEntropyLoss in minibatches."""

from __future__ import annotations

import numpy as np

from scratch import nn
from scratch.training import accuracy

from . import Example, Split, register

TEST_SIZE = 0.25
HIDDEN = 128
PROJECT = "scratch-parity"  # pyproject.toml's project name, for the install hint


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(f"the digits examples need scikit-learn, an optional extra: "
                          f"pip install '{PROJECT}[digits]'") from error
    bunch = load_digits()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)


def load_data(rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat (N, 64) float64 images, standardized with the training set's statistics, and class indices
    (a ``Split`` whose test set is always there)."""
    from scratch.data import StandardScaler, train_test_split

    images, labels = _load_digits()
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=TEST_SIZE, stratify=labels,
                                                        rng=rng)
    scaler = StandardScaler().fit(x_train)  # the edge pixels are constant: their std is 0, kept finite by the scaler
    return scaler.transform(x_train), y_train, scaler.transform(x_test), y_test


def load_images(rng: np.random.Generator | None = None) -> Split:
    """The same split as ``load_data``, each image as (1, 8, 8): one channel of 8x8 pixels."""
    x_train, y_train, x_test, y_test = load_data(rng)
    return x_train.reshape(-1, 1, 8, 8), y_train, x_test.reshape(-1, 1, 8, 8), y_test


def build_mlp(dtype: np.dtype, rng: np.random.Generator | None = None) -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, HIDDEN, dtype=dtype, rng=rng), nn.ReLU(),
                         nn.Linear(HIDDEN, 10, dtype=dtype, rng=rng))


def build_cnn(dtype: np.dtype, rng: np.random.Generator | None = None) -> nn.Sequential:
    """conv 3x3 (16 channels, same size) -> ReLU -> 2x2 max pool -> 16x4x4 = 256 features -> 10 logits."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, dtype=dtype, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(256, 10, dtype=dtype, rng=rng))


def describe(model: nn.Module, x: np.ndarray) -> str:
    """The predicted digit of the first few images."""
    predicted = np.asarray(model(x[:10])).argmax(axis=1)
    return "predicted digits of the first images: " + " ".join(str(int(p)) for p in predicted)


MLP = register(Example(
    name="digits", description="scikit-learn's 8x8 digits: 64-64-10 ReLU MLP, Adam, CrossEntropyLoss, minibatches",
    build_model=build_mlp, criterion=nn.CrossEntropyLoss, load_data=load_data,
    optimizer="Adam", lr=3e-3, epochs=30, batch_size=32, accuracy=accuracy, describe=describe))
CNN = register(Example(
    name="digits-cnn", description="scikit-learn's 8x8 digits as 1x8x8 images: conv-ReLU-maxpool-linear, Adam",
    build_model=build_cnn, criterion=nn.CrossEntropyLoss, load_data=load_images,
    optimizer="Adam", lr=3e-3, epochs=10, batch_size=32, accuracy=accuracy, describe=describe))
