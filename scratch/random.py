"""Global random state, mirroring ``torch.random``.

scratch never touches NumPy's global ``np.random`` state. Every random draw goes
through either the ``rng`` a caller passes or this module's default generator,
which ``manual_seed`` resets.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

# torch seeds its CPU default generator with this same constant, so an unseeded
# program is deterministic in both engines (the streams themselves differ).
_DEFAULT_SEED = 67280421310721

class _State(TypedDict):
    seed: int
    generator: np.random.Generator


_state: _State = {"seed": _DEFAULT_SEED, "generator": np.random.default_rng(_DEFAULT_SEED)}


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the default generator to ``seed`` and return it, like ``torch.manual_seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expected an int seed, got {type(seed).__name__}")
    seed = int(seed)
    if not -0x8000_0000_0000_0000 <= seed <= 0xFFFF_FFFF_FFFF_FFFF:
        raise ValueError(f"manual_seed: seed must be within the 64-bit range, got {seed}")
    # torch maps a negative seed onto the unsigned 64-bit range the same way.
    seed %= 2**64
    _state["seed"] = seed
    _state["generator"] = np.random.default_rng(seed)
    return _state["generator"]


def initial_seed() -> int:
    """The seed the default generator was last reset with."""
    return _state["seed"]


def default_generator() -> np.random.Generator:
    """The generator used when a caller passes no ``rng``."""
    return _state["generator"]


def get_rng(rng: np.random.Generator | None) -> np.random.Generator:
    """``rng`` itself, or the default generator when it is None."""
    if rng is None:
        return _state["generator"]
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng
