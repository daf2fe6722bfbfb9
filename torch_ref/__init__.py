"""torch_ref: scratch's twin in PyTorch -- converters, the parity harness and the ``parity`` CLI."""

from .compare import Comparison, ParityResult, loss_parity, module_parity
from .convert import from_torch, register_twin, to_torch
from .exchange import load_pt, load_safetensors, save_pt, save_safetensors
from .optim import optimizer_state_from_torch, optimizer_state_to_torch, to_torch_optimizer

__all__ = ["Comparison", "ParityResult", "from_torch", "load_pt", "load_safetensors", "loss_parity", "module_parity",
           "optimizer_state_from_torch", "optimizer_state_to_torch", "register_twin", "save_pt", "save_safetensors",
           "to_torch", "to_torch_optimizer"]
