"""``Optimizer``: parameter groups, per-parameter state and their (de)serialization, as in torch."""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._array import as_numpy
from ..nn.parameter import Parameter, zero_grads
from ._blocked import BLOCK as BLOCK  # the blocked update lives in _blocked.py; its names stay importable here
from ._blocked import GRAIN as GRAIN
from ._blocked import close_batch, open_batch
from ._blocked import run_blocked as run_blocked
from ._flat import FlatGroup, flat_candidate

ParamsT = Iterable[Parameter] | Iterable[tuple[str, Parameter]] | Iterable[dict[str, Any]]

_LABELS = {"lr": "learning rate", "eps": "epsilon value"}

def step_grad(param: Parameter, maximize: bool) -> np.ndarray:
    """The gradient an update steps along: ``param.grad`` (the step calls ``_update`` only for a parameter
    that has one), negated under ``maximize``."""
    grad: np.ndarray = param.grad  # type: ignore[assignment]  # not None, as said (typing.cast: a call)
    return -grad if maximize else grad


def check_nonnegative(**values: float) -> None:
    """torch's hyperparameter checks, in the order given: each must be >= 0 (NaN fails), else
    ValueError("Invalid learning rate: ..."), ("Invalid epsilon value: ..."), ("Invalid <name> value: ...")."""
    for name, value in values.items():
        if not value >= 0.0:
            raise ValueError(f"Invalid {_LABELS.get(name, f'{name} value')}: {value}")


def weight_decayed(param: Parameter, grad: np.ndarray, lr: float, weight_decay: float,
                   decoupled: bool = False) -> np.ndarray:
    """The gradient after weight decay λ: decoupled (AdamW), θ ← θ (1 - γλ) and g unchanged; else L2,
    g ← g + λθ. With λ = 0, g itself."""
    if weight_decay == 0:
        return grad
    if decoupled:
        param.data *= 1 - lr * weight_decay
        return grad
    return grad + weight_decay * param.data


def check_pair(name: str, value: Any, owner: str, meaning: str) -> None:
    """``value`` is a pair (a tuple or list of two), else a ValueError naming the owner and what came. torch
    takes a tuple of one and fails at the first step with an IndexError, and ignores a third entry."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{owner}: {name} must be a pair {meaning}, got {value!r}")


def check_betas(betas: tuple[float, float], owner: str = "optimizer") -> None:
    """A pair (β1, β2), each in [0, 1), else torch's ValueError("Invalid beta parameter at index i: ...")."""
    check_pair("betas", betas, owner, "(beta1, beta2)")
    for index, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta}")


class Optimizer:
    r"""Base class of every optimizer.

    Args:
        params: an iterable of ``Parameter``\ s, or of ``(name, Parameter)`` pairs (``module.named_parameters()``:
            the group keeps the names under ``"param_names"``, as torch's), or of dicts (*param groups*), each
            with a ``"params"`` entry (of either kind) and any options that override ``defaults`` for that group.
        defaults: the default value of every option.

    Attributes:
        param_groups: a list of dicts, each with ``"params"`` (a list of Parameters) and every option.
        state: per-parameter state (momentum buffers, moment estimates, step counts), keyed by Parameter.

    A subclass passes its options to ``__init__`` as ``defaults`` and implements its update through these hooks:

    - ``_update(param, group) -> None``, required: the update of one parameter, following the pseudocode in
      the subclass's docstring. It receives a Parameter whose ``.grad`` is not None and the param group
      (a dict of options) that holds it, and updates ``param.data`` and ``self.state[param]`` in place.
      ``step()`` calls it for every parameter that has a gradient (one whose ``.grad`` is None is skipped,
      as in torch), except in a group that takes the flat path.
    - ``_flat_buffers(group) -> tuple[str, ...] | None``, optional: whether the update can take the flat
      path (``_flat.py``) for ``group``. It returns the names of the state buffers the update keeps, each an
      array like its parameter that starts at zero (Adam: ``exp_avg``, ``exp_avg_sq``, and with amsgrad
      ``max_exp_avg_sq``), or None, the default: no flat path. Naming buffers promises an update that is
      elementwise (every element of the parameter, gradient and buffers goes through the same operations,
      wherever it sits) and needs no other state, so that running it once on the group's concatenated arrays
      gives, bit for bit, what per-parameter updates give; such an optimizer implements ``_apply``.
    - ``_apply(param, state, group, scratch) -> None``, with ``_flat_buffers``: the update itself. ``param``
      is anything with ``.data`` and ``.grad`` arrays: on the flat path a ``FlatGroup``, whose ``.data`` and
      ``.grad`` are the group's parameters and gradients concatenated into 1-D arrays. ``state`` holds
      ``"step"`` (the number of steps taken, a float) and each buffer that ``_flat_buffers`` names (on the
      flat path, the flat buffers, and nothing else); ``scratch`` is two arrays like ``param.data`` for
      temporaries. It updates ``param.data``, ``state["step"]`` and the buffers in place. Adam's ``_update``
      calls it too, with the parameter itself, so the two paths share one implementation.

    The flat path (``_step_flat``): a group of at least two distinct parameters of one dtype, with at most
    ``FLAT_LIMIT`` elements in all, each with a gradient of that dtype and all at the same step, is gathered
    into flat arrays, updated by one ``_apply``, and copied back; each ``self.state[p]`` buffer becomes a view
    into the group's flat buffer. Any other group takes the per-parameter path.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Parameter):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got Parameter")
        self.defaults = defaults
        self.state: defaultdict[Parameter, dict[str, Any]] = defaultdict(dict)
        # scratch rows shared by every parameter, and each parameter's views of them (see _scratch);
        # private, so state_dict keeps torch's keys
        self._scratch_rows: dict[np.dtype, np.ndarray] = {}
        self._scratch_views: dict[Parameter, list[np.ndarray]] = {}
        self._flat_groups: dict[int, FlatGroup] = {}  # group index -> its flat arrays (see _flat.py)
        self.param_groups: list[dict[str, Any]] = []
        groups: list[Any] = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (the rest taken from ``defaults``)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Parameter):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        params, names = _split_names(list(params))
        for param in params:
            if not isinstance(param, Parameter):
                raise TypeError(f"optimizer can only optimize Parameters, but one of the params is "
                                f"{type(param).__name__}")
        if len({id(p) for p in params}) != len(params):  # torch's warning, word for word
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; "
                          "see github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(("param_names" in group) != (names is not None or "param_names" in param_group)
               for group in self.param_groups):
            raise ValueError("all optimizer param groups should be with/without names. cannot add param group "
                             f"{'with' if names is not None or 'param_names' in param_group else 'without'} "
                             "names to the optimizer")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        if names is not None:
            group["param_names"] = names
        self.param_groups.append(group)

    def __repr__(self) -> str:
        """torch's format: the class, then each group's options in sorted order."""
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:  # group by group, in order: no generator over them all
            zero_grads(group["params"], set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given. With more than
        one intra-op thread, the kernels of the large updates (``run_blocked``) are collected and run together
        at the end, their blocks handed to the threads at once (``_blocked.Batch``), bit for bit as one by one."""
        loss = closure() if closure is not None else None
        batch = open_batch()  # the large updates' blocks run together at the end, in one hand-off (_blocked.py)
        try:
            for index, group in enumerate(self.param_groups):
                if self._step_flat(index, group):
                    continue
                for param in group["params"]:
                    if param.grad is not None:
                        if batch is not None and batch.updates:  # what _update does before its kernel
                            batch.touch((param.data, param.grad))
                        self._update(param, group)
        finally:
            close_batch(batch)
        return loss

    def _flat_buffers(self, group: dict[str, Any]) -> tuple[str, ...] | None:
        """The hook of the flat path (see the class docstring): the names of the zero-initialized state buffers
        of an update that can run on ``group``'s parameters as one flat array; None (here): it cannot."""
        return None

    def _step_flat(self, index: int, group: dict[str, Any]) -> bool:
        """Update ``group`` as one flat array if the optimizer and the group allow it; False if not."""
        buffers = self._flat_buffers(group)
        if buffers is None:
            return False
        params = group["params"]
        flat = self._flat_groups.get(index)
        if flat is None or not flat.matches(params, buffers):
            if not flat_candidate(params):
                return False
            flat = self._flat_groups[index] = FlatGroup(params, buffers)
        found = [self.state.get(p) for p in params]
        grads = flat.ready(found)
        if grads is None:
            return False
        # a parameter's first step: its state made (the others are the same dicts)
        states: list[dict[str, Any]] = ([self.state[p] for p in params] if None in found
                                        else found)  # type: ignore[assignment]
        flat.link(states)
        flat.gather(grads)
        state = {"step": states[0]["step"], **flat.state}
        self._apply(flat, state, group, flat.scratch)
        for param_state in states:
            param_state["step"] = state["step"]
        flat.scatter()
        return True

    def _apply(self, param: Any, state: dict[str, Any], group: dict[str, Any], scratch: list[np.ndarray]) -> None:
        """The hook of an optimizer with a flat path (see the class docstring): the update, in place, of
        ``param`` (anything with ``.data`` and ``.grad``) and its ``state`` (``step`` and the buffers), with
        two ``scratch`` arrays like ``param.data``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _apply()")

    def _lazy_state(self, param: Parameter, *buffers: str, **values: Any) -> dict[str, Any]:
        """``param``'s state, made at its first update as torch makes it: ``step`` 0, then each of
        ``values``, then a zero array like the parameter for each name in ``buffers``."""
        state = self.state[param]
        if not state:
            state["step"] = 0.0
            state.update(values)
            for name in buffers:
                state[name] = np.zeros_like(param.data)
        return state

    def _scratch(self, param: Parameter, count: int) -> list[np.ndarray]:
        """``count`` scratch arrays shaped like ``param``, for ``out=`` temporaries: views of rows sized to
        the largest parameter seen and shared by all parameters, so a step allocates nothing after the first."""
        views = self._scratch_views.get(param)
        data = param.data
        if views is None or len(views) < count or views[0].shape != data.shape or views[0].dtype != data.dtype:
            rows = self._scratch_rows.get(data.dtype)
            if rows is None or rows.shape[0] < count or rows.shape[1] < data.size:
                old = (0, 0) if rows is None else rows.shape
                rows = np.empty((max(count, old[0]), max(data.size, old[1])), dtype=data.dtype)
                self._scratch_rows[data.dtype] = rows
                self._scratch_views.clear()  # views of the old rows would keep them alive
            views = [rows[i, :data.size].reshape(data.shape) for i in range(count)]
            self._scratch_views[param] = views  # cached: making views costs more than a small update
        return views

    def _update(self, param: Parameter, group: dict[str, Any]) -> None:
        """The hook every optimizer implements (see the class docstring): update ``param``, which has a
        gradient, and its state, in place, with ``group``'s options."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update()")

    # ------------------------------------------------------------- state dict
    #: state entries that torch keeps as 0-d tensors of its default scalar dtype (float32) whatever the
    #: parameter's dtype (NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``): kept 0-d float32 arrays
    _float32_scalars: tuple[str, ...] = ()

    def state_dict(self) -> dict[str, Any]:
        """torch's format: ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``,
        parameters numbered in order across groups. Everything is a deep copy."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for param in group["params"]:
                index.setdefault(id(param), len(index))
            packed = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: copy.deepcopy(values) for p, values in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``; arrays (or torch tensors) are copied into each parameter's dtype.
        Everything is checked before anything changes."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(s["params"]) != len(g["params"]) for s, g in zip(saved_groups, self.param_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        params = {saved: p for s, g in zip(saved_groups, self.param_groups)
                  for saved, p in zip(s["params"], g["params"])}
        state: defaultdict[Parameter, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if key not in params:
                raise ValueError(f"loaded state dict has state for parameter {key}, which no group holds")
            param = params[key]
            state[param] = {name: self._loaded_state(name, value, param) for name, value in values.items()}
        self.state = state
        # torch keeps a group's param_names where the loaded group has none
        self.param_groups = [{**({"param_names": g["param_names"]} if "param_names" in g else {}),
                              **copy.deepcopy({k: v for k, v in s.items() if k != "params"}), "params": g["params"]}
                             for s, g in zip(saved_groups, self.param_groups)]

    def _loaded_state(self, name: str, value: Any, param: Parameter) -> Any:
        """A state entry of ``load_state_dict``: ``step`` stays a number, a ``_float32_scalars`` entry becomes a
        0-d float32 array, any other array-valued entry a copy in the parameter's dtype (of its shape)."""
        if name == "step":
            return float(as_numpy(value))
        if name in self._float32_scalars:
            return np.array(as_numpy(value), dtype=np.float32)
        if hasattr(value, "shape"):
            array = as_numpy(value)
            if array.shape != param.shape:
                raise ValueError(f"state '{name}' has shape {array.shape}, its parameter has shape {param.shape}")
            return array.astype(param.dtype, copy=True)
        return copy.deepcopy(value)


def _split_names(params: list[Any]) -> tuple[list[Any], list[str] | None]:
    """torch's named parameters: ``(name, parameter)`` pairs (``module.named_parameters()``) become the
    parameters and their names (the group's ``param_names``); plain parameters, and no names."""
    names = [param[0] for param in params if isinstance(param, tuple)]
    if not names:
        return params, None
    if len(names) != len(params):
        raise ValueError("all optimizer params should be with/without names. Some param names are missing")
    return [param[1] for param in params], names
