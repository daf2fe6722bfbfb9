"""torch_ref: scratch's twin in PyTorch -- converters, the parity harness and the ``parity`` CLI."""

from .compare import Comparison, ParityResult, loss_parity, module_parity
from .convert import from_torch, register_twin, to_torch

__all__ = ["Comparison", "ParityResult", "from_torch", "loss_parity", "module_parity", "register_twin", "to_torch"]
