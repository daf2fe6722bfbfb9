"""The generic twin: a scratch layer and its torch twin share the class name and the constructor's
argument names, and each keeps every constructor argument as an attribute of the same name (as torch's
own modules do), so each engine's module can be rebuilt from the other's attributes:

    torch.nn.Linear(in_features=m.in_features, out_features=m.out_features, bias=m.bias is not None)

Values cross as they are (numbers, strings, tuples, None), but for two conversions: an array (a loss's
``weight``) becomes the other engine's array, copied; a ``bias``-style flag whose attribute holds a
parameter or None becomes ``parameter is not None``. ``dtype`` is passed where the constructor takes it
(for the floating buffers of a module without parameters, like ``BatchNorm1d(affine=False)``); the
arguments in ``NOT_OPTIONS`` describe how to build a module, not what it computes, and are left out.

A layer whose options cannot cross this way registers a special twin (``registry.register_twin``).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch

from scratch import nn
from scratch.nn import Parameter

from ..arrays import to_numpy

#: constructor arguments that are not options of the computation
NOT_OPTIONS = {
    "device": "where torch allocates; scratch runs on the CPU",
    "dtype": "passed on its own, from the module's floating arrays",
    "rng": "scratch's generator for the initial weights, which the converter overwrites",
    "size_average": "torch's deprecated flag, folded into reduction by both engines",
    "reduce": "torch's deprecated flag, folded into reduction by both engines",
    "min_value": "Hardtanh's deprecated name of min_val, which both engines keep",
    "max_value": "Hardtanh's deprecated name of max_val, which both engines keep",
}
ABSTRACT = {"Module", "RNNBase", "RNNCellBase"}
PARAMETERS = (Parameter, torch.nn.Parameter)  # bases with no computation of their own: never a twin
# scratch.nn's exported names (its __all__, which scratch/nn/__init__.py hides from type checkers)
NN_NAMES = frozenset(vars(nn)["__all__"])


def has_torch_twin(cls: type) -> bool:
    """Whether ``cls`` is one of scratch.nn's own layers with a torch.nn class of the same name."""
    return (cls.__module__.startswith("scratch.nn.") and cls.__name__ in NN_NAMES and cls.__name__ not in ABSTRACT
            and hasattr(torch.nn, cls.__name__))


def has_scratch_twin(cls: type) -> bool:
    """Whether ``cls`` is one of torch.nn's own layers with a scratch.nn class of the same name."""
    return (cls.__module__.startswith("torch.nn.") and cls.__name__ in NN_NAMES and cls.__name__ not in ABSTRACT
            and getattr(torch.nn, cls.__name__, None) is cls)


def torch_twin(module: nn.Module, scratch_cls: type) -> torch.nn.Module:
    """torch.nn's class of the same name, built from ``module``'s attributes (see the module docstring)."""
    torch_cls = getattr(torch.nn, scratch_cls.__name__)
    options = _options(module, scratch_cls, _to_torch_value)
    if _takes_dtype(torch_cls):
        options["dtype"] = _torch_dtype(module)
    return torch_cls(**options)


def scratch_twin(module: torch.nn.Module, torch_cls: type) -> nn.Module:
    """scratch.nn's class of the same name, built from the torch ``module``'s attributes."""
    scratch_cls = getattr(nn, torch_cls.__name__)
    options = _options(module, scratch_cls, _to_numpy_value)
    if _takes_dtype(scratch_cls):
        options["dtype"] = _numpy_dtype(module)
    return scratch_cls(**options)


def _options(source: Any, scratch_cls: type[Any], convert: Any) -> dict[str, Any]:
    """Every option of ``scratch_cls``'s constructor, read off ``source`` (a module of either engine)."""
    options = {}
    for name, parameter in inspect.signature(scratch_cls.__init__).parameters.items():
        if name == "self" or name in NOT_OPTIONS or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if not hasattr(source, name):
            raise TypeError(f"no generic twin for {type(source).__qualname__}: it keeps no attribute '{name}' for its "
                            "constructor argument of that name; teach it with torch_ref.register_twin")
        value = getattr(source, name)
        if isinstance(parameter.default, bool) and (value is None or isinstance(value, PARAMETERS)):
            value = value is not None  # bias=True keeps a parameter named bias, bias=False keeps None
        options[name] = convert(value)
    return options


def _to_torch_value(value: Any) -> Any:
    return torch.tensor(np.array(value)) if isinstance(value, np.ndarray) else value


def _to_numpy_value(value: Any) -> Any:
    return to_numpy(value, copy=True) if isinstance(value, torch.Tensor) else value


def _takes_dtype(cls: type[Any]) -> bool:
    return "dtype" in inspect.signature(cls.__init__).parameters


def _torch_dtype(module: nn.Module) -> torch.dtype | None:
    """The torch dtype of the first float parameter or buffer of ``module`` (None: torch's default)."""
    dtypes = [p.dtype for p in module.parameters()] + [b.dtype for b in module.buffers() if b.dtype.kind == "f"]
    return torch.from_numpy(np.empty(0, dtype=dtypes[0])).dtype if dtypes else None


def _numpy_dtype(module: torch.nn.Module) -> np.dtype | None:
    """The reverse: the NumPy dtype of a torch module's first float parameter or buffer."""
    tensors = [t for t in [*module.parameters(), *module.buffers()] if t.is_floating_point()]
    return np.dtype(str(tensors[0].dtype).removeprefix("torch.")) if tensors else None
