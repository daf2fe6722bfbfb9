"""Every ``parity train`` example trains to its accuracy target in both engines, side by side.

scratch trains with ``scratch.training.fit``; its torch twin (``torch_ref.to_torch``, the same initial
weights) takes the same batches, drawn by a second loader with an identically seeded rng. After
training, both reach the example's accuracy on its test set and their weights agree within the
trajectory tolerance for the number of steps taken.
"""

import sys

import numpy as np
import pytest
import torch

import torch_ref
from scratch import optim
from scratch.data import DataLoader, TensorDataset
from scratch.training import fit
from torch_ref import examples
from torch_ref.examples import backprop_exercise, letters
from torch_ref.tolerance import reduction_length, relative_error, trajectory_rtol

TARGETS = {"letters": 1.0, "xor": 1.0, "backprop-exercise": 1.0, "digits": 0.97, "digits-cnn": 0.97}
CASES = [(name, dtype) for name in TARGETS for dtype in (np.float32, np.float64)]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _cast(array, dtype):
    return array.astype(dtype) if np.issubdtype(array.dtype, np.floating) else array


def _loader(x, y, batch_size):
    return DataLoader(TensorDataset(x, y), batch_size, shuffle=True, rng=np.random.default_rng(1))


def train_side_by_side(name, dtype):
    """Train scratch (with fit) and torch on the same batches; return both models, the data and the step count."""
    example = examples.get(name)
    x_train, y_train, x_test, y_test = (_cast(a, dtype) for a in example.load_data(np.random.default_rng(0)))
    model = example.build_model(dtype, np.random.default_rng(0))
    twin, torch_criterion = torch_ref.to_torch(model), torch_ref.to_torch(example.criterion())
    batch_size = example.batch_size or len(x_train)
    optimizer = getattr(optim, example.optimizer)(model.parameters(), lr=example.lr)
    history = fit(model, example.criterion(), optimizer, _loader(x_train, y_train, batch_size), epochs=example.epochs)
    torch_optimizer = getattr(torch.optim, example.optimizer)(twin.parameters(), lr=example.lr)
    torch_batches = _loader(x_train, y_train, batch_size)
    steps = 0
    for _ in range(example.epochs):
        for x, y in torch_batches:
            torch_optimizer.zero_grad()
            torch_criterion(twin(torch.from_numpy(x)), torch.from_numpy(y)).backward()
            torch_optimizer.step()
            steps += 1
    return example, model, twin, history, (x_train, x_test, y_test), steps


@pytest.mark.parametrize(("name", "dtype"), CASES, ids=[f"{n}-{np.dtype(d)}" for n, d in CASES])
def test_example_reaches_its_accuracy_in_both_engines_and_they_agree(name, dtype):
    example, model, twin, history, (x_train, x_test, y_test), steps = train_side_by_side(name, dtype)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.eval()
    ours = model(x_test)
    theirs = twin(torch.from_numpy(x_test)).detach().numpy()
    assert example.accuracy(ours, y_test) >= TARGETS[name]
    assert example.accuracy(theirs, y_test) >= TARGETS[name]
    n = reduction_length(x_train[:example.batch_size or len(x_train)], *(p.data for p in model.parameters()))
    tol = trajectory_rtol(dtype, n, steps)
    for (param, p), t in zip(model.named_parameters(), twin.parameters(), strict=True):
        err = relative_error(p.data, t.detach().numpy())[1]
        assert err <= tol, f"{name} {param} after {steps} steps: rel err {err:.2e} > {tol:.2e}"


def test_every_example_is_registered_with_a_target():
    """char-gpt, trained with a schedule and clipping, has its own tests (test_char_gpt.py)."""
    assert sorted(examples.EXAMPLES) == sorted([*TARGETS, "char-gpt"])
    with pytest.raises(KeyError, match="known: backprop-exercise"):
        examples.get("nope")


def test_letters_describe_shows_each_letter_and_its_prediction():
    _, model, _, _, (_, x_test, _), _ = train_side_by_side("letters", np.float64)
    assert letters.describe(model, x_test).splitlines() == ["A -> A", "B -> B", "C -> C"]


def test_backprop_exercise_loss_is_half_the_summed_squared_error_in_both_engines():
    example = examples.get("backprop-exercise")
    criterion, twin = example.criterion(), torch_ref.to_torch(example.criterion())
    assert isinstance(twin, backprop_exercise.TorchHalfSquaredError)
    rng = np.random.default_rng(2)
    out, target = rng.uniform(size=(3, 1)), rng.uniform(size=(3, 1))
    loss = criterion(out, target)
    np.testing.assert_allclose(loss, 0.5 * np.sum((out - target) ** 2), rtol=1e-15)
    np.testing.assert_allclose(loss, twin(torch.from_numpy(out), torch.from_numpy(target)).item(), rtol=1e-15)
    np.testing.assert_allclose(criterion.backward(), out - target, rtol=1e-15)


def test_digits_split_is_stratified_and_standardized():
    x_train, y_train, x_test, y_test = examples.get("digits").load_data(np.random.default_rng(0))
    assert x_train.shape == (1347, 64) and x_test.shape == (450, 64)
    np.testing.assert_allclose(np.bincount(y_test) / len(y_test), np.bincount(y_train) / len(y_train), atol=0.01)
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-12)
    images = examples.get("digits-cnn").load_data(np.random.default_rng(0))[0]
    np.testing.assert_array_equal(images, x_train.reshape(-1, 1, 8, 8))


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'scratch-parity\[digits\]'"):
        examples.get("digits").load_data(np.random.default_rng(0))
