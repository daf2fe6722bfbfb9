"""Feature scaling and label encoding, re-exported by ``scratch.data``: StandardScaler and MinMaxScaler
(scikit-learn's, fit per feature over axis 0) and one_hot (torch.nn.functional.one_hot's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

__all__ = ["MinMaxScaler", "StandardScaler", "one_hot"]


def _float_input(name: str, X: Any) -> np.ndarray:
    """``X`` as a 2-D float array (ints become float64, as scikit-learn does)."""
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} expected a numeric array, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} expected a 2-D array (n_samples, n_features), got shape {X.shape}")
    return cast("np.ndarray", X if X.dtype.kind == "f" else X.astype(np.float64))


class _Scaler:
    """Shared by the scalers. Every method takes X of shape (n_samples, n_features) and returns an
    array of X's float dtype (integer input becomes float64); ``fit`` returns the scaler."""

    n_features_in_: int

    if TYPE_CHECKING:  # each scaler's own
        def fit(self, X: Any) -> _Scaler: ...
        def transform(self, X: Any) -> np.ndarray: ...

    def _check_fitted(self, X: Any) -> np.ndarray:
        name = type(self).__name__
        if not hasattr(self, "n_features_in_"):
            raise RuntimeError(f"This {name} instance is not fitted yet. Call 'fit' before using this estimator.")
        X = _float_input(name, X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {name} is expecting {self.n_features_in_} features "
                             "as input.")
        return cast("np.ndarray", X)

    def _fit_input(self, X: Any) -> np.ndarray:
        X = _float_input(type(self).__name__, X)
        if X.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}: found array with 0 sample(s) while a minimum of 1 is required")
        self.n_features_in_, self.n_samples_seen_ = X.shape[1], X.shape[0]
        return cast("np.ndarray", X)

    def fit_transform(self, X: Any) -> np.ndarray:
        """Fit to ``X``, then transform it.

        Args:
            X: (n_samples, n_features) array.

        Returns:
            the transformed array, of X's float dtype.
        """
        return self.fit(X).transform(X)


class StandardScaler(_Scaler):
    r"""Standardize features, like ``sklearn.preprocessing.StandardScaler``: :math:`z = (x - \mu) / \sigma`.

    The mean and (population) variance are accumulated in float64 with scikit-learn's two-pass
    formula; a feature whose variance is within round-off of 0 (scikit-learn's ``_is_constant_feature``
    bound) gets scale 1, so it is centred but never divided by zero. Output keeps a float input's dtype.
    Fitted attributes: ``mean_``, ``var_``, ``scale_`` (float64, per feature), ``n_features_in_``.

    Args:
        with_mean: subtract the mean.
        with_std: divide by the standard deviation.
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X: Any) -> StandardScaler:
        """Args: X: (n_samples, n_features). Returns: self, with the per-feature statistics over axis 0."""
        X = self._fit_input(X)
        n = X.shape[0]
        mean = X.sum(axis=0, dtype=np.float64) / n
        temp = X.astype(np.float64) - mean
        correction = temp.sum(axis=0)
        var = ((temp**2).sum(axis=0) - correction**2 / n) / n
        self.mean_ = mean if self.with_mean or self.with_std else None
        self.var_ = var if self.with_std else None
        self.scale_ = None
        if self.with_std:
            eps = np.finfo(np.float64).eps
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            self.scale_ = np.where(constant, 1.0, np.sqrt(var))
        return self

    def transform(self, X: Any) -> np.ndarray:
        r"""Args: X: (n_samples, n_features). Returns: :math:`(X - \mu) / \sigma` in X's float dtype."""
        X = self._check_fitted(X)
        out = X.copy()
        if self.with_mean:
            out = (out - self.mean_).astype(X.dtype)
        if self.with_std:
            out = (out / self.scale_).astype(X.dtype)
        return cast("np.ndarray", out)

    def inverse_transform(self, X: Any) -> np.ndarray:
        r"""Args: X: (n_samples, n_features). Returns: :math:`X \sigma + \mu` in X's float dtype."""
        X = self._check_fitted(X)
        out = X.copy()
        if self.with_std:
            out = (out * self.scale_).astype(X.dtype)
        if self.with_mean:
            out = (out + self.mean_).astype(X.dtype)
        return cast("np.ndarray", out)


class MinMaxScaler(_Scaler):
    r"""Scale each feature to ``feature_range``, like ``sklearn.preprocessing.MinMaxScaler``:
    :math:`x' = x \cdot s + m` with :math:`s = (hi - lo) / (\max - \min)`, :math:`m = lo - \min \cdot s`.

    A feature whose range is within round-off of 0 (< 10 eps of its dtype) gets range 1, so it maps
    to ``lo`` instead of dividing by zero (scikit-learn's handling). Computed in X's float dtype.
    Fitted attributes: ``data_min_``, ``data_max_``, ``data_range_``, ``scale_``, ``min_``.

    Args:
        feature_range: (lo, hi) with lo < hi.
    """

    def __init__(self, feature_range: tuple[float, float] = (0, 1)) -> None:
        if len(feature_range) != 2 or not feature_range[0] < feature_range[1]:
            raise ValueError(f"Minimum of desired feature range must be smaller than maximum. Got {feature_range}.")
        self.feature_range = feature_range

    def fit(self, X: Any) -> MinMaxScaler:
        """Args: X: (n_samples, n_features). Returns: self, with the per-feature minimum and range over axis 0."""
        X = self._fit_input(X)
        lo, hi = self.feature_range
        self.data_min_ = X.min(axis=0)
        self.data_max_ = X.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        safe_range = np.where(self.data_range_ < 10 * np.finfo(X.dtype).eps, 1.0, self.data_range_).astype(X.dtype)
        self.scale_ = ((hi - lo) / safe_range).astype(X.dtype)
        self.min_ = (lo - self.data_min_ * self.scale_).astype(X.dtype)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Args: X: (n_samples, n_features). Returns: :math:`X s + m` in X's float dtype."""
        X = self._check_fitted(X)
        return cast("np.ndarray", (X * self.scale_ + self.min_).astype(X.dtype))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Args: X: (n_samples, n_features). Returns: :math:`(X - m) / s` in X's float dtype."""
        X = self._check_fitted(X)
        return cast("np.ndarray", ((X - self.min_) / self.scale_).astype(X.dtype))


# ---------------------------------------------------------------------------------------- one_hot
def one_hot(labels: Any, num_classes: int = -1, dtype: Any = np.float32) -> np.ndarray:
    """One-hot encode integer labels, like ``torch.nn.functional.one_hot`` (but in ``dtype``).

    Args:
        labels: integer array of any shape.
        num_classes: number of classes; -1 infers ``labels.max() + 1``.
        dtype: the output dtype.

    Returns:
        array of shape ``labels.shape + (num_classes,)`` with a 1 at each label.
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to integer labels, got dtype {labels.dtype}")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: can not infer the total number of classes from empty labels")
        num_classes = int(labels.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be a non-negative int or -1, got {num_classes}")
    if labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got {low}")
        if high >= num_classes:
            raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {high}")
    out = np.zeros((*labels.shape, int(num_classes)), dtype=dtype)
    np.put_along_axis(out, labels[..., None].astype(np.intp), 1, axis=-1)
    return out
