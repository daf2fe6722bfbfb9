"""PyTorch's own test databases, imported so that nothing else in the process notices.

``torch.testing._internal.common_utils`` (which ``common_modules`` and ``common_optimizers`` import) is written
for torch's own test runs and changes process-wide state as it is imported: it calls
``torch.backends.disable_global_flags()`` (after which a plain ``torch.backends.<backend>.<flag> = value``
raises), loads its own hypothesis profile ('dev': 10 random examples, 200 ms deadline) over the one
``parity_tests/conftest.py`` loaded, adds warning filters and sets ``TORCHINDUCTOR_CACHE_DIR``. ``_isolated``
records each of these before the import and puts it back after, so the oracle's tests cannot change how any
other test runs. The databases need the ``expecttest`` package (the ``test`` extra).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import hypothesis
import torch

#: the global of torch/backends/__init__.py behind ``flags_frozen()`` (``torch.backends`` itself is a wrapper module)
_BACKENDS, _FLAG = torch.backends.flags_frozen.__globals__, "__allow_nonbracketed_mutation_flag"


@contextmanager
def _isolated() -> Iterator[None]:
    """Undo, on exit, what importing torch's test internals does to the process (see the module docstring)."""
    flag, environ = _BACKENDS[_FLAG], dict(os.environ)
    profile = hypothesis.settings.get_current_profile_name()
    try:
        with warnings.catch_warnings():
            yield
    finally:
        _BACKENDS[_FLAG] = flag
        hypothesis.settings.load_profile(profile)
        os.environ.clear()
        os.environ.update(environ)


with _isolated():
    from torch.testing._internal.common_modules import (
        ErrorModuleInput,
        FunctionInput,
        ModuleErrorEnum,
        ModuleInfo,
        ModuleInput,
        module_db,
    )
    from torch.testing._internal.common_optimizers import (
        OptimizerInfo,
        _get_optim_inputs_including_global_cliquey_kwargs,
        optim_db,
    )

#: optim_db's inputs with torch's implementation flags (all False, then foreach, fused, differentiable each True)
optim_inputs_with_impls = _get_optim_inputs_including_global_cliquey_kwargs

__all__ = ["ErrorModuleInput", "FunctionInput", "ModuleErrorEnum", "ModuleInfo", "ModuleInput", "OptimizerInfo",
           "module_db", "optim_db", "optim_inputs_with_impls"]
