"""torch_ref: scratch's twin in PyTorch -- converters, the parity harness and the ``parity`` CLI.

The names below (and the subpackages, ``torch_ref.training``, ...) are imported on first use, so that
importing the package alone does not import torch: its pytest plugin (``torch_ref.pytest_plugin``, loaded
by every pytest session of an environment where this package is installed) costs nothing to a session
that does not use it, and does not fail where torch is missing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .component import loss_parity, module_parity, optimizer_parity
    from .convert import (
        from_torch,
        optimizer_state_from_torch,
        optimizer_state_to_torch,
        register_twin,
        to_torch,
        to_torch_optimizer,
    )
    from .exchange import load_pt, load_safetensors, save_pt, save_safetensors
    from .report import Comparison, ParityResult, Report
    from .training import compare

#: each public name and the submodule that defines it
_HOMES = {
    "component": ["loss_parity", "module_parity", "optimizer_parity"],
    "convert": ["from_torch", "optimizer_state_from_torch", "optimizer_state_to_torch", "register_twin", "to_torch",
                "to_torch_optimizer"],
    "exchange": ["load_pt", "load_safetensors", "save_pt", "save_safetensors"],
    "report": ["Comparison", "ParityResult", "Report"],
    "training": ["compare"],
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = ["Comparison", "ParityResult", "Report", "compare", "from_torch", "load_pt", "load_safetensors",
           "loss_parity", "module_parity", "optimizer_parity", "optimizer_state_from_torch",
           "optimizer_state_to_torch", "register_twin", "save_pt", "save_safetensors", "to_torch",
           "to_torch_optimizer"]


def __getattr__(name: str) -> Any:
    """A public name from its submodule, or a submodule itself (``torch_ref.training``), imported now."""
    if name in _HOME_OF:
        value = getattr(import_module(f".{_HOME_OF[name]}", __name__), name)
    elif not name.startswith("__"):
        try:
            value = import_module(f".{name}", __name__)
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
