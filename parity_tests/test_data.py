"""scratch.data: batching, splitting (sizes checked against scikit-learn), scalers against
scikit-learn's, one_hot against torch's."""

import numpy as np
import pytest
import torch
from sklearn import model_selection
from sklearn import preprocessing as skp

import scratch
from scratch.data import (
    DataLoader,
    MinMaxScaler,
    StandardScaler,
    Subset,
    TensorDataset,
    one_hot,
    random_split,
    train_test_split,
)
from torch_ref.tolerance import relative_error, rtol

N = 23


def dataset(n=N):
    x = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    return TensorDataset(x, np.arange(n))


def epoch_ids(loader):
    """The sample ids (second array) of one pass over ``loader``, batch by batch."""
    return [y for _, y in loader]


# ------------------------------------------------------------------------------------- datasets
def test_tensor_dataset_indexing():
    ds = dataset()
    x, y = ds[4]
    assert len(ds) == N and ds.tensors[1] is not None and y == 4 and np.array_equal(x, [12, 13, 14])
    xb, yb = ds[np.array([5, 1])]
    assert xb.shape == (2, 3) and np.array_equal(yb, [5, 1])


def test_tensor_dataset_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match=r"size mismatch.*\[3, 4\]"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))


def test_subset_maps_indices():
    sub = Subset(dataset(), [7, 2, 9])
    assert len(sub) == 3 and sub[1][1] == 2 and np.array_equal(sub[np.array([2, 0])][1], [9, 7])


# ------------------------------------------------------------------------------------ DataLoader
@pytest.mark.parametrize("batch_size, drop_last, sizes", [(5, False, [5, 5, 5, 5, 3]), (5, True, [5, 5, 5, 5]),
                                                          (23, False, [23]), (30, True, [])])
def test_batch_shapes_and_counts(batch_size, drop_last, sizes):
    loader = DataLoader(dataset(), batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes) == len(batches)
    assert [x.shape for x, _ in batches] == [(s, 3) for s in sizes]
    assert all(np.array_equal(x[:, 0], 3 * y) for x, y in batches)  # rows stay paired


def test_unshuffled_order_is_sequential():
    assert np.array_equal(np.concatenate(epoch_ids(DataLoader(dataset(), batch_size=4))), np.arange(N))


def test_shuffle_sees_every_sample_once_and_reshuffles_each_epoch():
    loader = DataLoader(dataset(), batch_size=4, shuffle=True, rng=np.random.default_rng(3))
    first, second = np.concatenate(epoch_ids(loader)), np.concatenate(epoch_ids(loader))
    assert np.array_equal(np.sort(first), np.arange(N)) and np.array_equal(np.sort(second), np.arange(N))
    assert not np.array_equal(first, second)


def test_shuffle_reproducible_with_rng():
    a = DataLoader(dataset(), batch_size=4, shuffle=True, rng=np.random.default_rng(11))
    b = DataLoader(dataset(), batch_size=4, shuffle=True, rng=np.random.default_rng(11))
    assert all(np.array_equal(u, v) for u, v in zip(epoch_ids(a), epoch_ids(b)))


def test_shuffle_reproducible_with_manual_seed_and_leaves_numpy_global_state():
    loader = DataLoader(dataset(), batch_size=4, shuffle=True)
    global_state = np.random.get_state()[1].copy()
    scratch.manual_seed(5)
    first = np.concatenate(epoch_ids(loader))
    scratch.manual_seed(5)
    again = np.concatenate(epoch_ids(loader))
    assert np.array_equal(first, again) and not np.array_equal(first, np.arange(N))
    assert np.array_equal(np.random.get_state()[1], global_state)


def test_loader_over_subset():
    sub = Subset(dataset(), np.arange(0, N, 2))
    assert np.array_equal(np.concatenate(epoch_ids(DataLoader(sub, batch_size=5))), np.arange(0, N, 2))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(dataset(), batch_size=batch_size)


# ---------------------------------------------------------------------------------- random_split
def split_lengths_torch(n, lengths):
    return [len(s) for s in torch.utils.data.random_split(range(n), lengths)]


@pytest.mark.parametrize("n, lengths", [(23, [20, 3]), (23, [0.7, 0.3]), (10, [0.33, 0.33, 0.34]),
                                        (7, [0.2, 0.2, 0.2, 0.2, 0.2])])
def test_random_split_sizes_match_torch_and_are_disjoint(n, lengths):
    parts = random_split(dataset(n), lengths, rng=np.random.default_rng(0))
    assert [len(p) for p in parts] == split_lengths_torch(n, lengths)
    ids = np.concatenate([p[np.arange(len(p))][1] for p in parts])
    assert np.array_equal(np.sort(ids), np.arange(n))


def test_random_split_rejects_wrong_total():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(dataset(), [10, 10])


# ------------------------------------------------------------------------------ train_test_split
@pytest.mark.parametrize("n, kwargs", [(23, {}), (23, {"test_size": 0.3}), (10, {"test_size": 3}),
                                       (17, {"train_size": 0.5}), (17, {"test_size": 0.2, "train_size": 0.5}),
                                       (40, {"test_size": 0.25, "stratify": True})])
def test_train_test_split_sizes_match_sklearn(n, kwargs):
    x, ids = np.arange(n * 2).reshape(n, 2), np.arange(n)
    if kwargs.get("stratify"):
        kwargs = {**kwargs, "stratify": ids % 3}
    ours = train_test_split(x, ids, rng=np.random.default_rng(0), **kwargs)
    theirs = model_selection.train_test_split(x, ids, random_state=0, **kwargs)
    assert [a.shape for a in ours] == [a.shape for a in theirs]
    x_train, x_test, id_train, id_test = ours
    assert np.array_equal(x_train[:, 0], 2 * id_train) and np.array_equal(x_test[:, 0], 2 * id_test)
    assert not set(id_train) & set(id_test)


def test_train_test_split_without_shuffle_keeps_order():
    train, test = train_test_split(np.arange(10), test_size=0.3, shuffle=False)
    assert np.array_equal(train, np.arange(7)) and np.array_equal(test, [7, 8, 9])


def test_stratified_split_keeps_class_proportions():
    labels = np.repeat([0, 1, 2], [60, 30, 10])
    y_train, y_test = train_test_split(labels, test_size=0.2, stratify=labels, rng=np.random.default_rng(1))
    assert np.array_equal(np.bincount(y_test), [12, 6, 2]) and np.array_equal(np.bincount(y_train), [48, 24, 8])


@pytest.mark.parametrize("kwargs", [{"test_size": 1.5}, {"test_size": 0}, {"test_size": 30},
                                    {"test_size": 0.6, "train_size": 0.6}])
def test_train_test_split_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        train_test_split(np.arange(20), **kwargs)


# -------------------------------------------------------------------------------------- scalers
def features(dtype):
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, size=(50, 4)) * np.array([1.0, 100.0, 1e-3, 1.0])
    x[:, 3] = 7.25  # a constant feature
    return x.astype(dtype)


SCALERS = {"standard": (StandardScaler, skp.StandardScaler, {}),
           "standard-no-mean": (StandardScaler, skp.StandardScaler, {"with_mean": False}),
           "standard-no-std": (StandardScaler, skp.StandardScaler, {"with_std": False}),
           "minmax": (MinMaxScaler, skp.MinMaxScaler, {}),
           "minmax-range": (MinMaxScaler, skp.MinMaxScaler, {"feature_range": (-1, 2)})}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SCALERS)
def test_scaler_matches_sklearn(name, dtype):
    ours_cls, theirs_cls, kwargs = SCALERS[name]
    x = features(dtype)
    ours, theirs = ours_cls(**kwargs), theirs_cls(**kwargs)
    out, expected = ours.fit_transform(x), theirs.fit_transform(x)
    assert out.dtype == dtype and np.all(np.isfinite(out)) and close_per_feature(out, expected)
    back, expected_back = ours.inverse_transform(out), theirs.inverse_transform(expected)
    assert back.dtype == dtype and close_per_feature(back, expected_back) and close_per_feature(back, x)


def close_per_feature(actual, expected):
    """Each feature (column) within round-off of its own scale: features differ by 1e5 in magnitude."""
    tol = rtol(actual.dtype, len(actual))
    return all(relative_error(actual[:, j], expected[:, j])[1] <= tol for j in range(actual.shape[1]))


def test_constant_feature_is_not_divided_by_zero():
    x = features(np.float64)
    assert np.all(StandardScaler().fit_transform(x)[:, 3] == 0) and np.all(MinMaxScaler().fit_transform(x)[:, 3] == 0)


def test_scaler_checks_fit_and_width():
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(features(np.float64))
    with pytest.raises(ValueError, match="expecting 4 features"):
        MinMaxScaler().fit(features(np.float64)).transform(np.zeros((2, 3)))


# -------------------------------------------------------------------------------------- one_hot
@pytest.mark.parametrize("labels, num_classes", [([0, 3, 1, 3], -1), ([[0, 2], [1, 1]], 5), ([2], 3)])
def test_one_hot_matches_torch(labels, num_classes):
    out = one_hot(np.array(labels), num_classes)
    expected = torch.nn.functional.one_hot(torch.tensor(labels), num_classes).numpy()
    assert out.dtype == np.float32 and out.shape == expected.shape and np.array_equal(out, expected)


@pytest.mark.parametrize("labels, num_classes, message", [([0, 4], 3, "got 4"), ([-2, 1], -1, "got -2")])
def test_one_hot_rejects_out_of_range(labels, num_classes, message):
    with pytest.raises(ValueError, match=message):
        one_hot(np.array(labels), num_classes)
