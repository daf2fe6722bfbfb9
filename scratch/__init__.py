"""scratch: a neural-network engine on NumPy alone, mirroring PyTorch's API and numerics."""

from . import allocator, nn, optim, parallel
from .parallel import get_num_threads, set_num_threads
from .random import default_generator, initial_seed, manual_seed
from .serialization import load, save

__version__ = "0.1.0"

allocator._apply_at_import()  # a fast path: see scratch/allocator.py

__all__ = ["allocator", "default_generator", "get_num_threads", "initial_seed", "load", "manual_seed", "nn", "optim",
           "parallel", "save", "set_num_threads"]
