"""scratch.training: accuracy, the fit loop against a hand-written loop, History, EarlyStopping, callbacks."""

import numpy as np
import pytest
import torch

import scratch
from scratch import nn, optim
from scratch.data import DataLoader, TensorDataset
from scratch.training import EarlyStopping, History, accuracy, evaluate, fit

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float64)


def xor_model(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(2, 8, dtype=dtype, rng=rng), nn.Tanh(), nn.Linear(8, 1, dtype=dtype, rng=rng),
                         nn.Sigmoid())


def classifier(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(4, 16, dtype=np.float64, rng=rng), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(16, 3, dtype=np.float64, rng=rng))


def blobs(n=60, seed=1):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.normal(size=(n, 4)) + 2.0 * np.eye(3, 4)[y]
    return x, y


class Recorder:
    def __init__(self):
        self.batches, self.epochs = [], []

    def on_batch_end(self, batch, logs):
        self.batches.append((batch, logs))

    def on_epoch_end(self, epoch, logs):
        self.epochs.append((epoch, logs))


# ------------------------------------------------------------------------------------- accuracy
def test_accuracy_on_class_indices_matches_torch():
    logits = np.random.default_rng(0).normal(size=(40, 5))
    target = np.random.default_rng(1).integers(0, 5, size=40)
    expected = (torch.tensor(logits).argmax(1) == torch.tensor(target)).double().mean().item()
    assert 0 < accuracy(logits, target) == expected < 1


def test_accuracy_on_one_hot_and_probability_targets():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 1.0, 5.0]])
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.0, 0.0, 1.0]])
    assert accuracy(logits, np.eye(3)[[0, 1, 0]]) == pytest.approx(2 / 3) and accuracy(logits, probs) == 2 / 3


def test_accuracy_single_output_thresholds_at_half():
    assert accuracy(np.array([[0.9], [0.2], [0.6], [0.4]]), np.array([[1.0], [0.0], [0.0], [0.0]])) == 0.75


def test_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="batch size"):
        accuracy(np.zeros((4, 3)), np.zeros(5, dtype=int))


# ---------------------------------------------------------------------------------------- fit
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_solves_xor(dtype):
    model, x, y = xor_model(dtype=dtype), XOR_X.astype(dtype), XOR_Y.astype(dtype)
    loader = DataLoader(TensorDataset(x, y), batch_size=2, shuffle=True, rng=np.random.default_rng(0))
    history = fit(model, nn.BCELoss(), optim.Adam(model.parameters(), lr=0.05), loader, epochs=400)
    assert history.epochs_run == 400 and history.history["accuracy"][-1] == 1.0
    assert history.history["accuracy"][0] < 1.0 and history.history["loss"][-1] < 0.05
    assert model(x).dtype == dtype and accuracy(model(x), y) == 1.0


def hand_written_epoch(model, criterion, optimizer, loader):
    """What fit's docstring says one epoch does; returns the batch-size-weighted mean loss."""
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        model.backward(criterion.backward())
        optimizer.step()
        total, count = total + float(loss) * len(x), count + len(x)
    return total / count


@pytest.mark.parametrize("shuffle", [False, True])
def test_first_epoch_equals_hand_written_loop_bit_for_bit(shuffle):
    x, y = blobs()
    results = []
    for run in (fit, hand_written_epoch):
        scratch.manual_seed(0)  # the same dropout masks in both runs
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loader = DataLoader(TensorDataset(x, y), batch_size=7, shuffle=shuffle, rng=np.random.default_rng(4))
        if run is fit:
            loss = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1).history["loss"][0]
        else:
            model.train()
            loss = hand_written_epoch(model, nn.CrossEntropyLoss(), opt, loader)
        results.append((loss, model.state_dict()))
    (loss_fit, state_fit), (loss_hand, state_hand) = results
    assert loss_fit == loss_hand
    assert all(np.array_equal(state_fit[k], state_hand[k]) for k in state_fit)
    assert not np.array_equal(state_fit["0.weight"], classifier().state_dict()["0.weight"])  # it did train


def test_history_contents_with_validation():
    x, y = blobs()
    model = classifier()
    train = DataLoader(TensorDataset(x[:45], y[:45]), batch_size=10, shuffle=True, rng=np.random.default_rng(0))
    val = DataLoader(TensorDataset(x[45:], y[45:]), batch_size=4)
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2), train, epochs=6,
                  val_loader=val)
    assert isinstance(history, History) and history.epochs_run == 6
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 6 for v in history.history.values())
    assert history.best_epoch == int(np.argmin(history.history["val_loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0] and model.training
    # validation ran in eval mode (dropout off) over every sample, weighted by batch size
    assert history.history["val_loss"][-1] == evaluate(model, nn.CrossEntropyLoss(), val)["loss"]
    model.eval()
    final = nn.CrossEntropyLoss()(model(x[45:]), y[45:])
    assert history.history["val_loss"][-1] == pytest.approx(float(final), rel=1e-12)
    assert history.history["val_accuracy"][-1] == accuracy(model(x[45:]), y[45:])


def test_metrics_loss_only():
    x, y = blobs()
    model = classifier()
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                  DataLoader(TensorDataset(x, y), batch_size=8), epochs=2, metrics=("loss",))
    assert list(history.history) == ["loss"]


# ------------------------------------------------------------------------------ EarlyStopping
class SnapshotEachEpoch:
    """Keeps the model's weights at the end of every epoch."""

    def __init__(self, model):
        self.model, self.states = model, []

    def on_epoch_end(self, epoch, logs):
        self.states.append(self.model.state_dict())


def test_early_stopping_stops_and_restores_best_weights():
    x, y = blobs(90)
    model = classifier()
    train = DataLoader(TensorDataset(x[:30], y[:30]), batch_size=30)
    val = DataLoader(TensorDataset(x[30:], y[30:]), batch_size=60)
    snapshots = SnapshotEachEpoch(model)
    stopper = EarlyStopping(patience=3)
    # a large learning rate overfits 30 samples quickly, so val_loss turns up
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5), train, epochs=200,
                  val_loader=val, early_stopping=stopper, callbacks=[snapshots])
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert history.epochs_run < 200 and history.epochs_run == best + 4 == len(snapshots.states)
    assert history.best_epoch == stopper.best_epoch == best and stopper.stopped_epoch == best + 3
    restored = model.state_dict()
    assert all(np.array_equal(restored[k], snapshots.states[best][k]) for k in restored)
    assert not np.array_equal(restored["0.weight"], snapshots.states[-1]["0.weight"])


def test_early_stopping_mode_max_and_min_delta():
    stopper = EarlyStopping(monitor="accuracy", patience=2, mode="max", min_delta=0.05, restore_best_weights=False)
    model = classifier()
    values = [0.5, 0.56, 0.6, 0.58]  # +0.06 improves; 0.6 and 0.58 are within min_delta of the best 0.56
    stops = [stopper.update(e, {"accuracy": v}, model) for e, v in enumerate(values)]
    assert stops == [False, False, False, True] and stopper.best == 0.56 and stopper.best_epoch == 1


@pytest.mark.parametrize("kwargs, message", [({"mode": "auto"}, "mode"), ({"patience": -1}, "patience"),
                                             ({"min_delta": -0.1}, "min_delta")])
def test_early_stopping_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)


def test_early_stopping_monitor_must_be_recorded():
    model = classifier()
    x, y = blobs()
    with pytest.raises(ValueError, match="val_loss"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
            DataLoader(TensorDataset(x, y), batch_size=8), early_stopping=EarlyStopping())


# ---------------------------------------------------------------------------------- callbacks
def test_callbacks_called_once_per_batch_and_epoch():
    x, y = blobs(50)
    model = classifier()
    recorder, epoch_only = Recorder(), SnapshotEachEpoch(model)
    loader = DataLoader(TensorDataset(x, y), batch_size=8)  # 7 batches
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader, epochs=3,
                  callbacks=[recorder, epoch_only])
    assert [b for b, _ in recorder.batches] == list(range(7)) * 3 and len(epoch_only.states) == 3
    assert [e for e, _ in recorder.epochs] == [0, 1, 2]
    assert all(set(logs) == {"loss", "accuracy"} for _, logs in recorder.batches)
    assert [logs["loss"] for _, logs in recorder.epochs] == history.history["loss"]
    sizes = np.array([8] * 6 + [2])
    first_epoch = np.array([logs["loss"] for _, logs in recorder.batches[:7]])
    assert history.history["loss"][0] == pytest.approx(float(sizes @ first_epoch) / 50, rel=1e-12)


def test_fit_on_a_loader_without_batches_is_a_clear_error():
    model, criterion = nn.Linear(2, 1, dtype=np.float64), nn.MSELoss()
    loader = DataLoader(TensorDataset(np.zeros((3, 2)), np.zeros((3, 1))), batch_size=4, drop_last=True)
    with pytest.raises(ValueError, match="yielded no batches"):
        fit(model, criterion, optim.SGD(model.parameters(), lr=0.1), loader, metrics=("loss",))


def test_evaluate_restores_the_mode_it_found():
    model = nn.Sequential(nn.Linear(2, 1, dtype=np.float64)).eval()
    loader = DataLoader(TensorDataset(np.zeros((3, 2)), np.zeros((3, 1))), batch_size=2)
    evaluate(model, nn.MSELoss(), loader, metrics=("loss",))
    assert not model.training


def test_fit_skips_the_input_gradient_and_restores_the_flag():
    """fit trains with requires_input_grad_(False) (the input is data) and leaves the model's flag as it was."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 8, rng=rng), nn.ReLU(), nn.Linear(8, 3, rng=rng))
    seen = []
    first = model[0]
    backward = first.backward

    def spy(grad):
        seen.append(first.requires_input_grad)
        return backward(grad)

    first.backward = spy
    x = rng.standard_normal((12, 4), dtype=np.float32)
    y = rng.integers(0, 3, 12)
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), DataLoader(TensorDataset(x, y),
                                                                                         batch_size=4), epochs=1)
    assert seen == [False, False, False]
    assert model.requires_input_grad and first.requires_input_grad
