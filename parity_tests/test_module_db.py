"""torch's own test samples (``torch.testing._internal.common_modules.module_db``) for MultiheadAttention,
TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, Transformer and RMSNorm, in float32
and float64, train and eval: the torch module built from the sample's constructor input, the scratch one
converted from it (``from_torch``: the same weights), both run on the sample's forward input; outputs,
input gradients and parameter gradients must match. (Where a sample has dropout > 0 in training, the
torch side is the scratch module's twin, which replays its masks.)

The tolerance policy first; what fails it is judged again relative to the terms the value is a
cancellation of, as ``torch_ref/tolerance.py`` describes ("Judging relative to the terms"). These samples
are tiny (embed_dim 3 with 3 heads: head_dim 1; d_model 4), so a few float32 gradients cancel to nearly 0.
"""

from functools import cache

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref.convert import from_torch, to_torch
from torch_ref.oracle.torchdb import module_db
from torch_ref.tolerance import relative_error

from .attention_helpers import call_parity

CLASSES = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
           "Transformer", "RMSNorm"]
INFOS = {info.module_cls.__name__: info for info in module_db if info.module_cls.__name__ in CLASSES}
TORCH_DTYPES = {np.float32: torch.float32, np.float64: torch.float64}


@cache
def samples(name: str, dtype: type, training: bool) -> list:
    torch.manual_seed(0)  # make_tensor draws from torch's global generator
    info = INFOS[name]
    return info.module_inputs_func(info, device="cpu", dtype=TORCH_DTYPES[dtype], requires_grad=True,
                                   training=training)


def cases() -> list:
    return [pytest.param(name, dtype, training, i, id=f"{name}-{dtype.__name__}-{'train' if training else 'eval'}-{i}"
                                                      f"-{samples(name, np.float32, training)[i].desc or ''}")
            for name in CLASSES for dtype in (np.float32, np.float64) for training in (True, False)
            for i in range(len(samples(name, np.float32, training)))]


def as_numpy(value, dtype):
    """A sample's tensor as a NumPy array, a float one in ``dtype``; anything else as it is."""
    if not isinstance(value, torch.Tensor):
        return value
    array = value.detach().numpy().copy()
    return array.astype(dtype) if array.dtype.kind == "f" else array


def draws_dropout(module: nn.Module) -> bool:
    return module.training and any(getattr(m, "p", 0) > 0 or (isinstance(m, nn.MultiheadAttention) and m.dropout > 0)
                                   for m in module.modules())


def run(name: str, dtype: type, training: bool, index: int, sample_dtype: type | None = None):
    """The sample's torch module (in ``dtype``), its scratch conversion, and their comparison."""
    sample = samples(name, sample_dtype or dtype, training)[index]
    torch.manual_seed(index)
    ctor = sample.constructor_input
    theirs = INFOS[name].module_cls(*ctor.args, **ctor.kwargs).to(TORCH_DTYPES[dtype]).train(training)
    ours = from_torch(theirs)
    args = [as_numpy(a, dtype) for a in sample.forward_input.args]
    kwargs = {k: as_numpy(v, dtype) for k, v in sample.forward_input.kwargs.items()}
    twin = to_torch(ours) if draws_dropout(ours) else theirs
    empty = any(isinstance(a, np.ndarray) and a.size == 0 for a in args)
    return ours, call_parity(ours, *args, twin=twin, rng=np.random.default_rng(0), nonzero=not empty, **kwargs)


def terms(name: str, training: bool, index: int, dtype: type) -> dict[str, float]:
    """Per quantity, the size of the terms (tolerance.py): |torch float32 - torch float64| / eps32."""
    low, high = (run(name, d, training, index, sample_dtype=dtype)[1] for d in (np.float32, np.float64))
    return {q: float(np.abs(low.arrays[q][1].astype(np.float64) - high.arrays[q][1]).max(initial=0.0))
            / float(np.finfo(np.float32).eps) for q in low.arrays}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")
@pytest.mark.parametrize(("name", "dtype", "training", "index"), cases())
def test_module_db_sample(name, dtype, training, index):
    ours, result = run(name, dtype, training, index)
    assert type(ours) is getattr(nn, name) and ours.training == training and result.comparisons
    failed = [c for c in result.comparisons if not c.ok]
    if failed and all(not c.problem for c in failed):  # not a shape, dtype or trivial-gradient failure
        scale = terms(name, training, index, dtype)
        failed = [c for c in failed if relative_error(*result.arrays[c.quantity], float(
            np.abs(result.arrays[c.quantity][1]).max()) + scale[c.quantity])[1] > c.tol]
    assert not failed, "\n".join(c.describe(*result.arrays[c.quantity]) for c in failed)


def test_every_class_has_samples():
    assert set(INFOS) == set(CLASSES)
    assert all(samples(name, np.float32, training) for name in CLASSES for training in (True, False))
