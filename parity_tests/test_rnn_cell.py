"""RNNCell, LSTMCell, GRUCell: beyond their catalog cases, hx=None against torch, finite differences, a cell as
one step of its sequence layer, layout, init, the backward's return forms and bad input."""

import numpy as np
import pytest
import torch

from scratch import nn
from torch_ref import ParityResult, from_torch, to_torch
from torch_ref.testing import DTYPES, MIN_NORM, assert_gradcheck
from torch_ref.tolerance import MIN_GRAD_NORM, reduction_length, rtol

N, H_IN, H = 3, 4, 5
KINDS = {"RNNCell": lambda **kw: nn.RNNCell(H_IN, H, **kw),
         "RNNCell_relu": lambda **kw: nn.RNNCell(H_IN, H, nonlinearity="relu", **kw),
         "LSTMCell": lambda **kw: nn.LSTMCell(H_IN, H, **kw), "GRUCell": lambda **kw: nn.GRUCell(H_IN, H, **kw)}
LAYER = {"RNNCell": "RNN", "RNNCell_relu": "RNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}


def make(kind, dtype=np.float64, batch=(N,), seed=0, **options):
    """(module, x, hx): hx is h, or (h, c) for LSTMCell."""
    rng = np.random.default_rng(seed)
    module = KINDS[kind](dtype=dtype, rng=rng, **options)
    x = rng.standard_normal((*batch, H_IN)).astype(dtype)
    states = tuple(rng.standard_normal((*batch, H)).astype(dtype) for _ in range(2))
    return module, x, states if kind == "LSTMCell" else states[0]


# ------------------------------------------------------------------------------ parity
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("batch", [(N,), ()], ids=["batched", "unbatched"])
@pytest.mark.parametrize("kind", KINDS)
def test_without_hx_the_state_is_zeros_as_in_torch(kind, batch, dtype):
    """hx=None: h (and c) start at zeros, so dL/dW_hh is exactly 0 in both engines (the catalog cases, which call
    a zero gradient trivial, all pass hx); every other gradient is compared."""
    module, x, _ = make(kind, dtype, batch)
    out = module(x)
    outs = out if isinstance(out, tuple) else (out,)
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(o.shape).astype(dtype) for o in outs]
    dx = module.backward(*grads)
    twin, leaf = to_torch(module), torch.tensor(x, requires_grad=True)
    theirs = twin(leaf)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    torch.autograd.backward(theirs, [torch.tensor(g) for g in grads])
    tol = rtol(dtype, reduction_length(x, *[p.data for p in module.parameters()]))
    result = ParityResult()
    for i, (a, b) in enumerate(zip(outs, theirs, strict=True)):
        result.add(f"output[{i}]", a, b, tol)
    result.add("grad_input", dx, leaf.grad, tol, MIN_GRAD_NORM)
    params = dict(twin.named_parameters())
    for name, param in module.named_parameters():
        result.add(f"{name}.grad", param.grad, params[name].grad, tol, None if name == "weight_hh" else MIN_GRAD_NORM)
    assert result.ok, "\n".join(result.failures())
    assert not module.weight_hh.grad.any()


# ---------------------------------------------------------------------- finite differences
class FlatLSTMCell(nn.Module):
    """LSTMCell's (h', c') concatenated, its x, h, c passed flat, so ``gradcheck`` (one output) checks all."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x, h, c):
        h_new, c_new = self.cell(x, (h, c))
        return np.concatenate([h_new, c_new], axis=-1)

    def backward(self, grad_output):
        dx, (dh, dc) = self.cell.backward(*np.split(grad_output, 2, axis=-1))
        return dx, dh, dc


@pytest.mark.parametrize("options", [{}, {"bias": False}, {"batch": ()}], ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_finite_differences(kind, options):
    module, x, hx = make(kind, **options)
    if kind == "LSTMCell":
        flat = FlatLSTMCell(module)
        assert_gradcheck(flat, x, *hx)
    else:
        assert_gradcheck(module, x, hx)


# ---------------------------------------------------------- one step of the sequence layer
@pytest.mark.parametrize("kind", KINDS)
def test_a_cell_is_one_step_of_its_layer(kind):
    """The same weights in RNN/LSTM/GRU (one layer) and in the cell: one step of the layer is the cell, outputs
    and every gradient (both run the per-step cell pairs of scratch.nn.functional.rnn_cell)."""
    cell, x, hx = make(kind)
    options = {"nonlinearity": cell.nonlinearity} if LAYER[kind] == "RNN" else {}
    layer = getattr(nn, LAYER[kind])(H_IN, H, dtype=np.float64, **options)
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    states = hx if kind == "LSTMCell" else (hx,)
    out = cell(x, hx)
    _, state_n = layer(x[None], tuple(s[None] for s in states) if kind == "LSTMCell" else hx[None])
    ours = out if kind == "LSTMCell" else (out,)
    theirs = state_n if kind == "LSTMCell" else (state_n,)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b[0])
    grads = [np.random.default_rng(i).standard_normal(o.shape) for i, o in enumerate(ours)]
    dx, dhx = cell.backward(*grads)
    dx_layer, dhx_layer = layer.backward(np.zeros((1, *out[0].shape) if kind == "LSTMCell" else (1, *out.shape)),
                                         tuple(g[None] for g in grads) if kind == "LSTMCell" else grads[0][None])
    np.testing.assert_allclose(dx, dx_layer[0], rtol=1e-13, atol=1e-15)
    for a, b in zip(dhx if kind == "LSTMCell" else (dhx,), dhx_layer if kind == "LSTMCell" else (dhx_layer,)):
        np.testing.assert_allclose(a, b[0], rtol=1e-13, atol=1e-15)
    for name, param in cell.named_parameters():
        np.testing.assert_allclose(param.grad, getattr(layer, f"{name}_l0").grad, rtol=1e-13, atol=1e-15)


# ----------------------------------------------------------------------------- layout, init
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_and_repr_equal_torchs(kind, bias):
    module = KINDS[kind](bias=bias)
    options = {"nonlinearity": "relu"} if kind == "RNNCell_relu" else {}
    twin = getattr(torch.nn, kind.split("_")[0])(H_IN, H, bias=bias, **options)
    assert [(k, v.shape) for k, v in module.state_dict().items()] == [(k, tuple(v.shape))
                                                                       for k, v in twin.state_dict().items()]
    assert repr(module) == repr(twin)
    back = from_torch(twin.double())
    assert type(back) is type(module) and back.bias is bias and getattr(back, "nonlinearity", "tanh") == options.get(
        "nonlinearity", "tanh")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("kind", KINDS)
def test_default_init_is_uniform_within_one_over_sqrt_hidden(kind, dtype):
    hidden = 16
    module = type(KINDS[kind]())(H_IN, hidden, dtype=dtype, rng=np.random.default_rng(0))
    values = np.concatenate([p.data.ravel() for p in module.parameters()])
    assert all(p.dtype == dtype for p in module.parameters())
    assert np.abs(values).max() <= 1 / np.sqrt(hidden)
    assert np.abs(values).max() > 0.95 / np.sqrt(hidden) and abs(values.mean()) < 0.03  # spread over the range


# ------------------------------------------------------------------------ backward's forms
@pytest.mark.parametrize("kind", KINDS)
def test_backward_returns_one_gradient_per_float_input(kind):
    module, x, hx = make(kind)
    out = module(x)
    outs = out if isinstance(out, tuple) else (out,)
    assert isinstance(module.backward(*[np.ones_like(o) for o in outs]), np.ndarray)  # no hx given: dL/dx alone
    module(x, hx)
    dx, dhx = module.backward(*[np.ones_like(o) for o in outs])
    assert dx.shape == x.shape
    if kind == "LSTMCell":
        assert [d.shape for d in dhx] == [h.shape for h in hx]
        module(x, hx)
        _, (dh, dc) = module.backward(None, np.ones_like(outs[1]))  # only c's gradient
        assert np.linalg.norm(dh) > MIN_NORM and np.linalg.norm(dc) > MIN_NORM
        module(x, hx)
        _, (dh_only, _) = module.backward(np.ones_like(outs[0]))  # grad_c omitted: zeros
        assert np.linalg.norm(dh_only) > MIN_NORM
    else:
        assert dhx.shape == hx.shape


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_gradients_accumulate(kind):
    module, x, hx = make(kind)
    grads = []
    for _ in range(2):
        out = module(x, hx)
        outs = out if isinstance(out, tuple) else (out,)
        module.backward(*[np.linspace(-1, 1, o.size).reshape(o.shape) for o in outs])
        grads.append({name: p.grad.copy() for name, p in module.named_parameters()})
    for name, grad in grads[0].items():
        np.testing.assert_allclose(grads[1][name], 2 * grad, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_an_inplace_module_after_the_cell_leaves_its_gradients_alone(kind):
    """RNNCell keeps h' for its backward: the h' it returns is a copy, so LeakyReLU(inplace=True) on it changes nothing
    (test_no_mutation.py's chains take modules of one input; a cell takes two)."""
    results = []
    for give_a_copy in (True, False):
        module, x, hx = make(kind, seed=2)
        out = module(x, hx)
        h = out[0] if kind == "LSTMCell" else out
        relu = nn.LeakyReLU(0.1, inplace=True)
        y = relu(h.copy() if give_a_copy else h)
        grad = relu.backward(np.random.default_rng(1).standard_normal(y.shape))
        dx, dhx = module.backward(grad, None) if kind == "LSTMCell" else module.backward(grad)
        results.append([dx, *(dhx if kind == "LSTMCell" else (dhx,)), *(p.grad for p in module.parameters())])
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------- bad input
def _spoil_state(kind, hx, spoil):
    return (spoil(hx[0]), hx[1]) if kind == "LSTMCell" else spoil(hx)


def _tensor(a):
    return torch.tensor(a) if isinstance(a, np.ndarray) else a


BAD_INPUTS = {  # (spoil x, spoil the (first) state, error, words); torch raises the same kind at each
    "3-D input": (lambda x: x[None], None, ValueError, "Expected input to be 1D or 2D, got 3D"),
    "input_size": (lambda x: x[:, :-1], None, ValueError, "inconsistent input_size: got 3 expected 4"),
    "3-D state": (None, lambda h: h[None], ValueError, r"Expected (hidden|hx\[0\]) to be 1D or 2D, got 3D"),
    "hidden_size": (None, lambda h: h[:, :-1], ValueError, r"of shape \(3, 5\).*got \(3, 4\)"),
    "batch size": (None, lambda h: h[:-1], ValueError, r"of shape \(3, 5\).*got \(2, 5\)"),
    "unbatched state": (None, lambda h: h[0], ValueError, r"of shape \(3, 5\).*got \(5,\)"),
    "input dtype": (lambda x: x.astype(np.float32), None, TypeError, "float64.*float32"),
    "state dtype": (None, lambda h: h.astype(np.float32), TypeError, "float64.*float32"),
    "list state": (None, lambda h: h.tolist(), TypeError, "numpy.ndarray, got list"),
}


@pytest.mark.parametrize("bad", BAD_INPUTS)
@pytest.mark.parametrize("kind", KINDS)
def test_bad_inputs_raise_errors_naming_the_cell_where_torch_raises(kind, bad):
    module, x, hx = make(kind)
    spoil_x, spoil_h, error, words = BAD_INPUTS[bad]
    x = spoil_x(x) if spoil_x else x
    hx = _spoil_state(kind, hx, spoil_h) if spoil_h else hx
    with pytest.raises(error, match=f"{type(module).__name__}: .*{words}"):
        module(x, hx)
    twin = to_torch(module)
    torch_hx = tuple(map(_tensor, hx)) if kind == "LSTMCell" else _tensor(hx)
    with pytest.raises((RuntimeError, ValueError, AttributeError)):  # a list has no .dim() in torch
        twin(torch.tensor(x), torch_hx)


@pytest.mark.parametrize("kind", KINDS)
def test_bad_upstream_gradients_raise_errors_naming_the_cell(kind):
    module, x, hx = make(kind)
    out = module(x, hx)
    name = type(module).__name__
    if kind == "LSTMCell":
        with pytest.raises(ValueError, match=rf"{name}.backward: expected grad_c of shape \(3, 5\)"):
            module.backward(out[0], out[1][:, :1])
        with pytest.raises(TypeError, match=f"{name}.backward: expected grad_h to be a numpy.ndarray"):
            module.backward([1.0], out[1])
    else:
        with pytest.raises(ValueError, match=f"{name}.backward: expected a gradient of shape"):
            module.backward(out[:, :1])


def test_lstm_cell_wants_hx_as_a_pair():
    module, x, (h, _) = make("LSTMCell")
    with pytest.raises(TypeError, match=r"LSTMCell: expected hx to be a tuple \(h, c\)"):
        module(x, h)


REJECTED = [
    (lambda: nn.RNNCell(4, 5, nonlinearity="sigmoid"), ValueError, "RNNCell: Unknown nonlinearity: 'sigmoid'"),
    (lambda: nn.GRUCell(-1, 5), ValueError, "GRUCell: input_size must be >= 0, got -1"),
    (lambda: nn.LSTMCell(4, 5.0), TypeError, "LSTMCell: hidden_size must be an int"),
    (lambda: nn.RNNCell(4, 5, dtype=np.int64), TypeError, "floating-point dtype"),
]


@pytest.mark.parametrize("build, error, words", REJECTED, ids=lambda v: v if isinstance(v, str) else "")
def test_invalid_options_are_rejected(build, error, words):
    with pytest.raises(error, match=words):
        build()
