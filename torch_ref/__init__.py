"""torch_ref: scratch's twin in PyTorch -- converters, the parity harness and the ``parity`` CLI."""

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

__all__ = ["Comparison", "ParityResult", "Report", "compare", "from_torch", "load_pt", "load_safetensors",
           "loss_parity", "module_parity", "optimizer_parity", "optimizer_state_from_torch",
           "optimizer_state_to_torch", "register_twin", "save_pt", "save_safetensors", "to_torch",
           "to_torch_optimizer"]
