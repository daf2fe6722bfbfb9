"""``letters``: seed 002's A/B/C letters as 5x6 pixels, a 30-5-3 sigmoid network without biases, trained
on MSELoss one letter at a time (per-sample SGD) from the seed's own printed initial weights."""

from __future__ import annotations

import numpy as np

from scratch import nn
from scratch.training import accuracy

from . import Example, register

LETTER_A = [0, 0, 1, 1, 0, 0,
            0, 1, 0, 0, 1, 0,
            1, 1, 1, 1, 1, 1,
            1, 0, 0, 0, 0, 1,
            1, 0, 0, 0, 0, 1]
LETTER_B = [0, 1, 1, 1, 1, 0,
            0, 1, 0, 0, 1, 0,
            0, 1, 1, 1, 1, 0,
            0, 1, 0, 0, 1, 0,
            0, 1, 1, 1, 1, 0]
LETTER_C = [0, 1, 1, 1, 1, 0,
            0, 1, 0, 0, 0, 0,
            0, 1, 0, 0, 0, 0,
            0, 1, 0, 0, 0, 0,
            0, 1, 1, 1, 1, 0]
NAMES = "ABC"
X = np.array([LETTER_A, LETTER_B, LETTER_C], dtype=np.float64)  # one row of 30 pixels per letter
LABELS = np.arange(3)

# The seed's printed initial weights (Figura 7), in its layout: W1 is input-by-hidden (30, 5), W2 is
# hidden-by-output (5, 3), since it computes x.dot(w1); torch's (out, in) layout is the transpose.
# Transcribed from decimal commas; row 1's "0, 75696605" is 0.75696605, and row 5's glued
# "-0,904371310,63977434 -0,433172120,67134205" is -0.90437131, 0.63977434, -0.43317212, 0.67134205.
W1 = np.array([
    [0.75696605, -0.15959223, -1.43034587, 0.17885107, -0.75859483],
    [-0.22870119, 1.05882236, -0.15880572, 0.11692122, 0.58621482],
    [0.13926738, 0.72963505, 0.36050426, 0.79866465, -0.17471235],
    [1.00708386, 0.68803291, 0.14110839, -0.7162728, 0.69990794],
    [-0.90437131, 0.63977434, -0.43317212, 0.67134205, -0.9316605],
    [0.15860963, -1.17967773, -0.70747245, 0.22870289, 0.00940404],
    [1.40511247, -1.29543461, 1.41613069, -0.97964787, -2.86220777],
    [0.66293564, -1.94013093, -0.78189238, 1.44904122, -1.81131482],
    [0.4441061, -0.18751726, -2.58252033, 0.23076863, 0.12182448],
    [-0.50061323, 0.39855851, -0.55612255, 2.0201934, 0.70525187],
    [-1.82925367, 1.32004437, 0.03226202, -0.79073523, -0.20750692],
    [-0.25756077, -1.37543232, -0.71369897, -0.13556156, -0.34918718],
    [0.26048374, 2.49871398, 1.01139237, -1.73242425, -0.67235417],
    [0.30351062, -0.45425039, -0.84046541, -0.60435352, -0.06281934],
    [0.43562048, 0.66297676, 1.76386981, -1.11794675, 2.2012095],
    [-1.11051533, 0.3462945, 0.19136933, 0.19717914, -1.78323674],
    [1.1219638, -0.04282422, -0.0142484, -0.73210071, -0.58364205],
    [-1.24046375, 0.23368434, 0.62323707, -1.66265946, -0.87481714],
    [0.19484897, 0.12629217, -1.01575241, -0.47028007, -0.58278292],
    [0.16703418, -0.50993283, -0.90036661, 2.33584006, 0.96395524],
    [-0.72714199, 0.39000914, -1.3215123, 0.92744032, -1.44239943],
    [-2.30234278, -0.52677889, -0.09759073, -0.63982215, -0.51416013],
    [1.25338899, -0.58950956, -0.86009159, -0.7752274, 2.24655146],
    [0.07553743, -1.2292084, 0.46184872, -0.56390328, 0.15901276],
    [-0.52090565, -2.42754589, -0.78354152, -0.44405857, 1.16228247],
    [-1.21805132, -0.40358444, -0.65942185, 0.76753095, -0.19664978],
    [-1.5866041, 1.17100962, -1.50840821, -0.61750557, 1.56003127],
    [1.33045269, -0.85811272, 1.88869376, 0.79491455, -0.96199293],
    [-2.34456987, 0.1005953, -0.99376025, -0.94402235, -0.3078695],
    [0.93611909, 0.58522915, -0.15553566, -1.03352997, -2.7210093],
])
W2 = np.array([
    [-0.50650286, -0.41168428, -0.7107231],
    [1.86861492, -0.36446849, 0.97721539],
    [-0.12792125, 0.69578056, -0.6639736],
    [0.58190462, -0.98941614, 0.40932723],
    [0.89758789, -0.49250365, -0.05023684],
])


def build_model(dtype: np.dtype, rng: np.random.Generator | None = None) -> nn.Sequential:
    """30-5-3, a sigmoid after each layer, no biases, holding the seed's initial weights (``rng`` unused)."""
    model = nn.Sequential(nn.Linear(30, 5, bias=False, dtype=dtype), nn.Sigmoid(),
                          nn.Linear(5, 3, bias=False, dtype=dtype), nn.Sigmoid())
    model.load_state_dict({"0.weight": W1.T.astype(dtype), "2.weight": W2.T.astype(dtype)})
    return model


def load_data(rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The three letters with one-hot targets; as in the seed, the test set is the training set."""
    from scratch.data import one_hot

    targets = one_hot(LABELS, num_classes=3, dtype=np.float64)
    return X.copy(), targets, X.copy(), targets.copy()


def letter_of(pixels: np.ndarray) -> str:
    """The name of the letter these 30 pixels draw, or '?' for another image."""
    matches = np.flatnonzero((np.asarray(pixels) == X).all(axis=1))
    return NAMES[matches[0]] if matches.size else "?"


def describe(model: nn.Module, x: np.ndarray) -> str:
    """One line per input: its letter and the letter the network predicts, e.g. ``A -> A``."""
    predicted = np.asarray(model(x)).argmax(axis=1)
    return "\n".join(f"{letter_of(row)} -> {NAMES[p]}" for row, p in zip(x, predicted))


EXAMPLE = register(Example(
    name="letters",
    description="seed 002: A, B, C as 5x6 pixels; 30-5-3 sigmoid, MSE, per-sample SGD from the seed's weights",
    build_model=build_model, criterion=nn.MSELoss, load_data=load_data,
    optimizer="SGD", lr=1.0, epochs=60, batch_size=1, accuracy=accuracy, describe=describe))
