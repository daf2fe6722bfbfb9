r"""AdaptiveLogSoftmaxWithLoss: the adaptive softmax of torch.nn (Grave et al., "Efficient softmax approximation for
GPUs"), a head ``Linear`` over the frequent classes and one cluster per cutoff interval, each a two-layer
projection; the math is in ``scratch.nn.functional.loss.adaptive``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import numpy as np

from ...functional.loss.adaptive import (
    AdaptiveCache,
    adaptive_log_softmax_backward,
    adaptive_log_softmax_forward,
    adaptive_partition,
)
from ...functional.softmax import log_softmax
from .._checks import check_device, check_input_kind, check_size
from ..container import ModuleList, Sequential
from ..linear import Linear
from ..module import Module, resolve_dtype

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

NAME = "AdaptiveLogSoftmaxWithLoss"


class _ASMoutput(NamedTuple):
    """torch's ``_ASMoutput``: the target log-probabilities and the mean negative log-likelihood."""

    output: np.ndarray
    loss: np.ndarray


class _Saved(NamedTuple):
    cache: AdaptiveCache
    output_shape: tuple[int, ...]
    input_shape: tuple[int, ...]


def _check_cutoffs(cutoffs: Sequence[int], n_classes: int) -> list[int]:
    """torch's checks and messages (after the module's name): a non-empty sequence of unique increasing integers
    in [1, n_classes - 1]."""
    cutoffs = list(cutoffs)
    if len(cutoffs) == 0:
        raise ValueError(f"{NAME}: cutoffs should be a sequence of length larger than 0")
    if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > (n_classes - 1)
            or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
        raise ValueError(f"{NAME}: cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                         "order, where each value is between 1 and n_classes-1")
    return [int(c) for c in cutoffs]


class AdaptiveLogSoftmaxWithLoss(Module):
    r"""Adaptive softmax with its negative log-likelihood, as torch.nn.AdaptiveLogSoftmaxWithLoss.

    The ``head`` (``Linear(in_features, cutoffs[0] + n_clusters, bias=head_bias)``) scores the shortlist classes
    ``0 .. cutoffs[0] - 1`` and one entry per cluster; ``tail[k]`` is ``Sequential(Linear(in_features, h_k,
    bias=False), Linear(h_k, size_k, bias=False))`` with :math:`h_k = \lfloor in\_features / div\_value^{k+1}
    \rfloor` for the classes of cluster k. The log-probability of a class in cluster k is the head's log-probability
    of the cluster plus the cluster's own log-softmax. Forward and backward math: see
    ``scratch.nn.functional.loss.adaptive``; the linear layers' gradients are theirs (each cluster's projection
    runs on its own rows only).

    Args:
        in_features: the number of input features.
        n_classes: the number of classes.
        cutoffs: increasing integers in [1, n_classes - 1]; the clusters are [cutoffs[i], cutoffs[i + 1]) and
            [cutoffs[-1], n_classes). Kept with n_classes appended, as torch's ``cutoffs`` attribute.
        div_value: the divisor of each cluster's hidden size. Default: 4.0.
        head_bias: give the head a bias. Default: False.
        device: None or "cpu". dtype: the parameters' dtype (default float32). rng (keyword-only): the generator
            of the linear layers' initialization.

    Shape:
        - input: :math:`(N, in\_features)` or :math:`(in\_features)`; target: :math:`(N)` or :math:`()` integer
          classes in [0, n_classes - 1].
        - output: :math:`(N)` or :math:`()`; loss: :math:`()`.

    Returns ``(output, loss)``, a NamedTuple as torch's ``_ASMoutput``; ``backward(grad_output, grad_loss=None)``
    takes the gradient of either or both and returns dL/dinput. ``log_prob(input)`` gives every class's
    log-probability :math:`(N, n\_classes)`, ``predict(input)`` the most probable class; neither has a backward.
    """

    _input_kind = "loss"  # a float input and an array target, checked at each call (see _check_input_dtype)

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False, device: Any = None, dtype: Any = None, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        check_device(NAME, device)
        dtype = resolve_dtype(dtype)
        self.in_features = check_size(NAME, "in_features", in_features)
        self.n_classes = check_size(NAME, "n_classes", n_classes)
        self.cutoffs = [*_check_cutoffs(cutoffs, n_classes), self.n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(self.in_features, self.head_size, bias=head_bias, dtype=dtype, rng=rng)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(self.in_features // (self.div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(self.in_features, hidden, bias=False, dtype=dtype, rng=rng),
                                        Linear(hidden, size, bias=False, dtype=dtype, rng=rng)))

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        self.head.reset_parameters(rng=rng)
        for projection in self._projections():
            for layer in projection:
                layer.reset_parameters(rng=rng)

    def _projections(self) -> list[Sequential]:
        return [cast(Sequential, projection) for projection in self.tail]

    def _check_input_dtype(self, args: tuple[Any, ...]) -> None:
        """A float input of the parameters' dtype and an integer target (torch's index dtype)."""
        check_input_kind(NAME, "loss", args)
        dtype = self.head.weight.dtype
        if args[0].dtype != dtype:
            raise TypeError(f"{NAME}: expected input of dtype {dtype} (the dtype of its parameters), got "
                            f"{args[0].dtype}; convert the input or call .to(np.{args[0].dtype}) on the module")
        if len(args) > 1 and args[1].dtype.kind not in "iu":
            raise TypeError(f"{NAME}: expected an integer target (class indices), got dtype {args[1].dtype}")

    def _check_shapes(self, input: np.ndarray, target: np.ndarray) -> None:
        """torch's checks and messages (ValueErrors, as scratch's other shape errors; torch's are RuntimeErrors),
        then the feature size."""
        if target.ndim == 1:
            if input.shape[:1] != target.shape:
                raise ValueError(f"{NAME}: Input and target should have the same size in the batch dimension.")
            if input.ndim != 2:
                raise ValueError(f"{NAME}: 1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{input.shape}")
        elif target.ndim == 0:
            if input.ndim != 1:
                raise ValueError(f"{NAME}: 0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{input.shape}")
        else:
            raise ValueError(f"{NAME}: 0D or 1D target tensor expected, multi-target not supported")
        if input.shape[-1] != self.in_features:
            raise ValueError(f"{NAME}: expected input with {self.in_features} features in its last dimension, got "
                             f"shape {input.shape}")

    @np.errstate(invalid="ignore", over="ignore", divide="ignore")  # inf and NaN pass through (its Linears too)
    def forward(self, input: np.ndarray, target: np.ndarray) -> _ASMoutput:
        self._check_shapes(input, target)
        x, t = input.reshape(-1, input.shape[-1]), target.reshape(-1)
        columns, clusters = adaptive_partition(t, self.cutoffs)
        cluster_logits = [self.tail[c.tail](x[c.rows]) for c in clusters]  # torch's order: the tails, then the head
        head_logits = self.head(x)
        (output, loss), cache = adaptive_log_softmax_forward(head_logits, cluster_logits, columns, clusters)
        output = output.reshape(target.shape)
        self._save(_Saved(cache, output.shape, input.shape))
        return _ASMoutput(output, loss)

    @np.errstate(invalid="ignore", over="ignore", divide="ignore")
    def backward(self, grad_output: np.ndarray | None, grad_loss: Any = None) -> np.ndarray:
        """dL/dinput from dL/doutput and/or dL/dloss (either may be None); the linear layers accumulate theirs."""
        saved: _Saved = self._saved(grad_output)
        if grad_output is not None and (grad_output.shape != saved.output_shape
                                        or grad_output.dtype != saved.cache.head_logprob.dtype):
            raise ValueError(f"{NAME}.backward: expected grad_output of shape {saved.output_shape} and dtype "
                             f"{saved.cache.head_logprob.dtype} (the output's), got shape {grad_output.shape} and "
                             f"dtype {grad_output.dtype}")
        if grad_loss is not None and np.shape(grad_loss) != ():
            raise ValueError(f"{NAME}.backward: expected a scalar grad_loss, got shape {np.shape(grad_loss)}")
        flat = None if grad_output is None else grad_output.reshape(-1)
        dhead, dclusters = adaptive_log_softmax_backward(flat, grad_loss, saved.cache)
        grad_input = self.head.backward(dhead)
        if grad_input is None:  # only after a caller's own head.requires_input_grad_(False)
            raise RuntimeError(f"{NAME}.backward: the head returned no input gradient "
                               "(head.requires_input_grad_(False)); the input's gradient needs it")
        for cluster, dlogits in zip(saved.cache.clusters, dclusters, strict=True):
            grad_input[cluster.rows] += self.tail[cluster.tail].backward(dlogits)  # the clusters' rows are disjoint
        return grad_input.reshape(saved.input_shape)

    def _full_log_prob(self, x: np.ndarray, head_logits: np.ndarray) -> np.ndarray:
        """torch's ``_get_full_log_prob``: the shortlist's log-probabilities, then each cluster's plus its head
        entry; computed from the weights, without touching what forward kept for backward."""
        head_logprob = log_softmax(head_logits, 1)
        out = np.empty((x.shape[0], self.n_classes), dtype=head_logprob.dtype)
        out[:, :self.shortlist_size] = head_logprob[:, :self.shortlist_size]
        for i, projection in enumerate(self._projections()):
            logits = x @ projection[0].weight.data.T @ projection[1].weight.data.T
            out[:, self.cutoffs[i]:self.cutoffs[i + 1]] = log_softmax(logits, 1) + \
                head_logprob[:, self.shortlist_size + i, np.newaxis]
        return out

    def _head_logits(self, input: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
        self._check_input_dtype((input,))
        if input.ndim != 2 or input.shape[1] != self.in_features:
            raise ValueError(f"{NAME}.{what}: expected input of shape (N, {self.in_features}), got {input.shape}")
        bias = self.head.bias
        logits = input @ self.head.weight.data.T
        return input, logits if bias is None else logits + bias.data

    def log_prob(self, input: np.ndarray) -> np.ndarray:
        """The log-probability of every class, (N, in_features) -> (N, n_classes)."""
        return self._full_log_prob(*self._head_logits(input, "log_prob"))

    def predict(self, input: np.ndarray) -> np.ndarray:
        """The most probable class of each row, (N, in_features) -> (N,) int64; torch's shortcut: a row whose
        head's best entry is a shortlist class takes it, the others the argmax of their full distribution."""
        x, head_logits = self._head_logits(input, "predict")
        output: np.ndarray = np.argmax(head_logits, axis=1).astype(np.int64)
        rows = np.flatnonzero(output >= self.shortlist_size)
        if rows.size:
            output[rows] = np.argmax(self._full_log_prob(x[rows], head_logits[rows]), axis=1)
        return output
