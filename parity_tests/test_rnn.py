"""RNN, LSTM, GRU: parity with torch (outputs, final states, dL/dx, dL/dh_0, dL/dc_0, every parameter
gradient) in both dtypes, torch-free finite differences, parameter layout, init and input checking."""

import numpy as np
import pytest
import torch

from scratch import nn
from scratch.gradcheck import gradcheck
from torch_ref import ParityResult, from_torch
from torch_ref.catalog import rnn as rnn_catalog
from torch_ref.testing import DTYPES, MIN_NORM, UPSTREAM_SEED, assert_module_parity
from torch_ref.tolerance import MIN_GRAD_NORM, reduction_length, rtol

H_IN, H = 4, 5
KINDS = {"RNN": lambda **kw: nn.RNN(H_IN, H, **kw), "RNN_relu": lambda **kw: nn.RNN(H_IN, H, nonlinearity="relu", **kw),
         "LSTM": lambda **kw: nn.LSTM(H_IN, H, **kw), "GRU": lambda **kw: nn.GRU(H_IN, H, **kw)}
TORCH = {"RNN": lambda **kw: torch.nn.RNN(H_IN, H, **kw),
         "RNN_relu": lambda **kw: torch.nn.RNN(H_IN, H, nonlinearity="relu", **kw),
         "LSTM": lambda **kw: torch.nn.LSTM(H_IN, H, **kw), "GRU": lambda **kw: torch.nn.GRU(H_IN, H, **kw)}


def make(kind, dtype=np.float64, length=6, batch=3, state=False, unbatched=False, seed=0, eval=False, **options):
    """(module, inputs): a (length, batch, H_IN) input (batch-first or unbatched if asked), then h_0 / (h_0, c_0)."""
    rng = np.random.default_rng(seed)
    module = KINDS[kind](dtype=dtype, rng=rng, **options)
    module.train(not eval)
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    lead = (length,) if unbatched else ((batch, length) if options.get("batch_first") else (length, batch))
    x = rng.standard_normal((*lead, H_IN)).astype(dtype)
    if not state:
        return module, [x]
    shape = (layers, H) if unbatched else (layers, batch, H)
    states = tuple(rng.standard_normal(shape).astype(dtype) for _ in range(2))
    return module, [x, states if kind == "LSTM" else states[0]]


CASES = {
    "1layer": {}, "h_0": {"state": True}, "2layers,h_0": {"num_layers": 2, "state": True},
    "bidirectional,h_0": {"bidirectional": True, "state": True},
    "2layers,bidirectional,h_0": {"num_layers": 2, "bidirectional": True, "state": True},
    "batch_first,h_0": {"batch_first": True, "state": True},
    "bias=False,2layers": {"bias": False, "num_layers": 2},
    "unbatched,h_0": {"unbatched": True, "state": True}, "unbatched": {"unbatched": True, "bidirectional": True},
    "length=1,h_0": {"length": 1, "state": True, "bidirectional": True},
    "length=50,h_0": {"length": 50, "state": True, "num_layers": 2},
    "dropout,eval": {"num_layers": 2, "dropout": 0.5, "eval": True, "state": True},
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", KINDS)
def test_parity_with_torch(kind, case, dtype):
    module, inputs = make(kind, dtype, **CASES[case])
    result = assert_module_parity(module, *inputs)
    expected = {"output[0]", "output[1]"} | ({"output[2]"} if kind == "LSTM" else set())
    assert expected <= {c.quantity for c in result.comparisons}  # every output and final state was compared


# ------------------------------------------------------------------------ finite differences
class Flat(nn.Module):
    """The recurrent layer's outputs (output, h_n[, c_n]) raveled into one array, its float inputs
    (x, h_0[, c_0]) passed flat, so ``scratch.gradcheck`` (one output array) checks all of them."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def _wrap(self, x):
        """The layer's input made of the flat input's first part (a subclass packs it)."""
        return x

    def _unwrap(self, y):
        """The array inside the layer's output or input gradient."""
        return y

    def forward(self, x, *states):
        hx = None if not states else (tuple(states) if isinstance(self.rnn, nn.LSTM) else states[0])
        out, state_n = self.rnn(self._wrap(x), hx)
        parts = [self._unwrap(out), *(state_n if isinstance(state_n, tuple) else (state_n,))]
        self._save(([p.shape for p in parts], len(states)))
        return np.concatenate([p.ravel() for p in parts])

    def backward(self, grad_output):
        shapes, n_states = self._saved(grad_output)
        bounds = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
        grads = [g.reshape(s) for g, s in zip(np.split(grad_output, bounds), shapes)]
        grad_state = tuple(grads[1:]) if isinstance(self.rnn, nn.LSTM) else grads[1]
        result = self.rnn.backward(self._wrap(grads[0]), grad_state)
        if n_states == 0:
            return self._unwrap(result)
        dx, dhx = result
        return (self._unwrap(dx), *dhx) if isinstance(self.rnn, nn.LSTM) else (self._unwrap(dx), dhx)


GRADCHECK_CASES = {"h_0": {"state": True}, "2layers,bidirectional,h_0": {"num_layers": 2, "bidirectional": True,
                                                                          "state": True},
                   "batch_first,bias=False": {"batch_first": True, "bias": False},
                   "unbatched,h_0": {"unbatched": True, "state": True}}


@pytest.mark.parametrize("case", GRADCHECK_CASES)
@pytest.mark.parametrize("kind", KINDS)
def test_finite_differences(kind, case):
    module, inputs = make(kind, length=4, batch=2, **GRADCHECK_CASES[case])
    flat_inputs = [inputs[0], *(inputs[1] if isinstance(inputs[-1], tuple) else inputs[1:])]
    result = gradcheck(Flat(module), *flat_inputs, rng=np.random.default_rng(UPSTREAM_SEED))
    result.raise_on_failure()
    names = ["input"] if len(flat_inputs) == 1 else [f"input[{i}]" for i in range(len(flat_inputs))]
    assert [c.quantity for c in result.checks] == names + [f"rnn.{n}" for n, _ in module.named_parameters()]
    assert all(c.norm > MIN_NORM for c in result.checks), [(c.quantity, c.norm) for c in result.checks]


# --------------------------------------------------------------------------- dropout in training
def torch_layer_by_layer(module, x, states, masks):
    """torch's layers one at a time with ``module``'s weights and its dropout masks between them
    (torch's stacked layer draws its own masks, which cannot be handed to it): (outputs, leaves, layers)."""
    leaves = [torch.tensor(a, requires_grad=True) for a in (x, *states)]
    layer_in, finals, layers, d = leaves[0], [], [], 2 if module.bidirectional else 1
    for layer in range(module.num_layers):
        if layer > 0:  # torch's dropout kernel: input * bernoulli(1 - p).div_(1 - p)
            layer_in = layer_in * torch.tensor(masks[layer - 1], dtype=layer_in.dtype).div_(1 - module.dropout)
        twin = torch_layer(module, H_IN if layer == 0 else H * d).to(layer_in.dtype)
        ours = {k.replace(f"_l{layer}", "_l0"): v for k, v in module.state_dict().items() if f"_l{layer}" in k}
        twin.load_state_dict({k: torch.tensor(v) for k, v in ours.items()})
        hx = tuple(h[layer * d:(layer + 1) * d] for h in leaves[1:])
        layer_in, state = twin(layer_in, hx if isinstance(module, nn.LSTM) else hx[0])
        finals.append(state if isinstance(state, tuple) else (state,))
        layers.append(twin)
    return [layer_in, *(torch.cat(parts) for parts in zip(*finals))], leaves, layers


def torch_layer(module, input_size):
    """A one-layer torch twin of ``module`` taking ``input_size`` features."""
    options = {"nonlinearity": module.nonlinearity} if isinstance(module, nn.RNN) else {}
    return getattr(torch.nn, type(module).__name__)(input_size, H, bias=module.bias,
                                                    bidirectional=module.bidirectional, **options)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["", "bidirectional"])
@pytest.mark.parametrize("kind", KINDS)
def test_dropout_between_layers_matches_torch_given_the_same_masks(kind, bidirectional, dtype):
    module, (x, hx) = make(kind, dtype, state=True, num_layers=3, dropout=0.4, bidirectional=bidirectional)
    states = hx if kind == "LSTM" else (hx,)
    out, state_n = module(x, hx)
    ours = [out, *(state_n if kind == "LSTM" else (state_n,))]
    assert len(module.dropout_masks) == 2 and all(0 < m.mean() < 1 for m in module.dropout_masks)
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(a.shape).astype(dtype) for a in ours]
    dx, dhx = module.backward(grads[0], tuple(grads[1:]) if kind == "LSTM" else grads[1])
    theirs, leaves, layers = torch_layer_by_layer(module, x, states, module.dropout_masks)
    torch.autograd.backward(theirs, [torch.tensor(g) for g in grads])
    tol = rtol(dtype, reduction_length(x, *[p.data for p in module.parameters()]))
    result = ParityResult()
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        result.add(f"output[{i}]", a, b, tol)
    for i, (a, b) in enumerate(zip([dx, *(dhx if kind == "LSTM" else (dhx,))], leaves, strict=True)):
        result.add(f"grad_input[{i}]", a, b.grad, tol, MIN_GRAD_NORM)
    for layer, twin in enumerate(layers):
        for name, param in twin.named_parameters():
            ours_name = name.replace("_l0", f"_l{layer}")
            result.add(ours_name, getattr(module, ours_name).grad, param.grad, tol, MIN_GRAD_NORM)
    assert result.ok, "\n".join(result.failures())


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_batch_with_dropout_between_layers_runs_like_torch(kind):
    module, (x, *_) = make(kind, batch=0, num_layers=2, dropout=0.4)  # nothing to draw: the mask is None
    out, _ = module(x)
    theirs, _ = TORCH[kind](num_layers=2, dropout=0.4, dtype=torch.float64)(torch.tensor(x))
    assert out.shape == tuple(theirs.shape) == (6, 0, H) and module.dropout_masks == [None]


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(4, 5, dropout=0.3)


# ---------------------------------------------------------------------------- layout, init
LAYOUTS = [{}, {"num_layers": 2, "bidirectional": True}, {"num_layers": 3, "bias": False},
           {"bidirectional": True, "bias": False}]


@pytest.mark.parametrize("options", LAYOUTS, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_keys_order_and_shapes_equal_torchs(kind, options):
    ours = KINDS[kind](**options).state_dict()
    theirs = TORCH[kind](**options).state_dict()
    assert [(k, v.shape) for k, v in ours.items()] == [(k, tuple(v.shape)) for k, v in theirs.items()]


@pytest.mark.parametrize("kind", KINDS)
def test_from_torch_builds_the_same_layer(kind):
    twin = TORCH[kind](num_layers=2, bidirectional=True, batch_first=True).double()
    module = from_torch(twin)
    assert type(module) is type(KINDS[kind]()) and module.batch_first and module.bidirectional
    for name, value in twin.state_dict().items():
        np.testing.assert_array_equal(module.state_dict()[name], value.numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("kind", KINDS)
def test_default_init_is_uniform_within_one_over_sqrt_hidden(kind, dtype):
    hidden = 16
    module = type(KINDS[kind]())(H_IN, hidden, num_layers=2, dtype=dtype, rng=np.random.default_rng(0))
    values = np.concatenate([p.data.ravel() for p in module.parameters()])
    assert all(p.dtype == dtype for p in module.parameters())
    assert np.abs(values).max() <= 1 / np.sqrt(hidden)
    assert np.abs(values).max() > 0.95 / np.sqrt(hidden) and abs(values.mean()) < 0.02  # spread over the range


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_gradients_accumulate(kind):
    module, inputs = make(kind, state=True)
    grads = []
    for _ in range(2):
        out, state = module(*inputs)
        g_state = tuple(np.ones_like(s) for s in state) if kind == "LSTM" else np.ones_like(state)
        module.backward(np.linspace(-1, 1, out.size).reshape(out.shape), g_state)
        grads.append({name: p.grad.copy() for name, p in module.named_parameters()})
    for name, grad in grads[0].items():
        np.testing.assert_allclose(grads[1][name], 2 * grad, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_backward_returns_one_gradient_per_float_input(kind):
    module, (x, hx) = make(kind, state=True)
    out, state = module(x)
    assert isinstance(module.backward(np.ones_like(out)), np.ndarray)  # no h_0 given: dL/dx alone
    out, state = module(x, hx)
    dx, dhx = module.backward(np.ones_like(out), None)  # grad of the final state may be omitted
    assert dx.shape == x.shape
    if kind == "LSTM":
        assert [d.shape for d in dhx] == [h.shape for h in hx]
        module(x, hx)
        _, (dh0, dc0) = module.backward(np.zeros_like(out), (None, np.ones_like(state[1])))  # only c_n's gradient
        assert np.linalg.norm(dh0) > MIN_NORM and np.linalg.norm(dc0) > MIN_NORM
    else:
        assert dhx.shape == hx.shape


# ---------------------------------------------------------------------------- bad input
BAD_INPUTS = {
    "input_size": (lambda x, hx: (x[..., :-1], hx), ValueError, "input_size=4"),
    "1-D input": (lambda x, hx: (x[0, 0], hx), ValueError, "expected input of shape"),
    "h_0 shape": (lambda x, hx: (x, hx[:, :1]), ValueError, "h_0 of shape"),
    "unbatched with 3-D h_0": (lambda x, hx: (x[:, 0], hx), ValueError, "h_0 of shape"),
    # a ValueError, as torch's RNNBase.check_input raises
    "input dtype": (lambda x, hx: (x.astype(np.float32), hx), ValueError, r"input dtype \(float32\) does not match "
                    r"weight dtype \(float64\)"),
    "h_0 dtype": (lambda x, hx: (x, hx.astype(np.float32)), TypeError, "h_0 of dtype float64"),
    "empty sequence": (lambda x, hx: (x[:0], hx), ValueError, "length at least 1"),
}


@pytest.mark.parametrize("bad", BAD_INPUTS)
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_bad_inputs_raise_errors_naming_the_layer(kind, bad):
    module, (x, hx) = make(kind, state=True)
    spoil, error, words = BAD_INPUTS[bad]
    if kind == "LSTM":
        x, h0 = spoil(x, hx[0])
        hx = (h0, hx[1])
    else:
        x, hx = spoil(x, hx)
    with pytest.raises(error, match=f"{type(module).__name__}: .*{words}"):
        module(x, hx)


@pytest.mark.parametrize("kind", KINDS)
def test_bad_upstream_gradients_raise_errors_naming_the_layer(kind):
    module, (x, hx) = make(kind, state=True)
    out, state = module(x, hx)
    name = type(module).__name__
    with pytest.raises(ValueError, match=f"{name}.backward: expected grad_output of shape"):
        module.backward(out[:-1])
    bad_state = (state[0][:, :1], None) if kind == "LSTM" else state[:, :1]
    with pytest.raises(ValueError, match=f"{name}.backward: expected grad of h_n of shape"):
        module.backward(out, bad_state)


REJECTED = [
    (lambda: nn.RNN(4, 5, nonlinearity="sigmoid"), ValueError, "Unknown nonlinearity 'sigmoid'"),
    (lambda: nn.GRU(4, 5, dropout=1.5), ValueError, "GRU: dropout should be a number in range"),
    (lambda: nn.LSTM(4, 5, num_layers=2, dropout=-0.1), ValueError, "LSTM: dropout should be a number"),
    (lambda: nn.LSTM(4, 5, proj_size=-1), ValueError, "LSTM: proj_size should be a positive integer or zero"),
    (lambda: nn.LSTM(4, 5, proj_size=5), ValueError, "proj_size has to be smaller than hidden_size"),
    (lambda: nn.GRU(0, 5), ValueError, "GRU: input_size must be greater than zero"),
    (lambda: nn.GRU(4, 5, num_layers=0), ValueError, "num_layers must be greater than zero"),
    (lambda: nn.RNN(4, 5.0), TypeError, "hidden_size should be of type int"),
    (lambda: nn.RNN(4, 5, bias=1), TypeError, "bias should be of type bool"),
    (lambda: nn.RNN(4, 5, dtype=np.int64), TypeError, "floating-point dtype"),
]


@pytest.mark.parametrize("build, error, words", REJECTED, ids=lambda v: v if isinstance(v, str) else "")
def test_invalid_options_are_rejected(build, error, words):
    with pytest.raises(error, match=words):
        build()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("options", rnn_catalog.OPTIONS, ids=lambda o: rnn_catalog.rnn_name("", *o))
@pytest.mark.parametrize("kind", rnn_catalog.LAYERS)
def test_every_layout_matches_torch(kind, options, dtype):
    """Every combination of num_layers, bidirectional, batch_first, bias and initial state, as parity check makes it."""
    module, inputs = rnn_catalog.make_rnn(kind, *options)(np.dtype(dtype), np.random.default_rng(0))
    assert_module_parity(module, *inputs)


# ------------------------------------------------------------------------- LSTM with projections
PROJ = 3


def make_projected(dtype=np.float64, length=4, batch=2, unbatched=False, seed=0, **options):
    """(LSTM(H_IN, H, proj_size=PROJ), [x, (h_0, c_0)]): h_0 has PROJ features, c_0 H."""
    rng = np.random.default_rng(seed)
    module = nn.LSTM(H_IN, H, proj_size=PROJ, dtype=dtype, rng=rng, **options)
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    lead = (length,) if unbatched else ((batch, length) if options.get("batch_first") else (length, batch))
    x = rng.standard_normal((*lead, H_IN)).astype(dtype)
    states = tuple(rng.standard_normal((layers, *(() if unbatched else (batch,)), size)).astype(dtype)
                   for size in (PROJ, H))
    return module, [x, states]


PROJECTED = {"1layer": {}, "2layers,bidirectional": {"num_layers": 2, "bidirectional": True},
             "batch_first,bias=False": {"batch_first": True, "bias": False}, "unbatched": {"unbatched": True},
             "3layers,length=20": {"num_layers": 3, "length": 20}}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", PROJECTED)
def test_lstm_with_projections_matches_torch(case, dtype):
    module, inputs = make_projected(dtype, **PROJECTED[case])
    out, (h_n, c_n) = module(*inputs)
    assert out.shape[-1] == PROJ * (2 if module.bidirectional else 1) and h_n.shape[-1] == PROJ
    assert c_n.shape[-1] == H
    result = assert_module_parity(module, *inputs)
    assert {"weight_hr_l0.grad", "grad_input[1]", "grad_input[2]"} <= {c.quantity for c in result.comparisons}


@pytest.mark.parametrize("case", ["1layer", "2layers,bidirectional", "unbatched"])
def test_lstm_with_projections_finite_differences(case):
    module, (x, states) = make_projected(**PROJECTED[case])
    result = gradcheck(Flat(module), x, *states, rng=np.random.default_rng(UPSTREAM_SEED))
    result.raise_on_failure()
    assert {f"rnn.{n}" for n, _ in module.named_parameters()} <= {c.quantity for c in result.checks}
    assert any(c.quantity == "rnn.weight_hr_l0" for c in result.checks)
    assert all(c.norm > MIN_NORM for c in result.checks), [(c.quantity, c.norm) for c in result.checks]


@pytest.mark.parametrize("options", LAYOUTS, ids=str)
def test_lstm_with_projections_has_torchs_state_dict_and_repr(options):
    ours, theirs = nn.LSTM(H_IN, H, proj_size=PROJ, **options), torch.nn.LSTM(H_IN, H, proj_size=PROJ, **options)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, tuple(v.shape))
                                                                     for k, v in theirs.state_dict().items()]
    assert repr(ours) == repr(theirs)
    back = from_torch(theirs.double())
    assert back.proj_size == PROJ and list(back.state_dict()) == list(theirs.state_dict())


def test_lstm_with_projections_checks_each_state_against_its_own_size():
    module, (x, (h0, c0)) = make_projected()
    with pytest.raises(ValueError, match=r"LSTM: expected h_0 of shape \(1, 2, 3\) .*proj_size.*got \(1, 2, 5\)"):
        module(x, (c0, c0))
    with pytest.raises(ValueError, match=r"LSTM: expected c_0 of shape \(1, 2, 5\) .*hidden_size.*got \(1, 2, 3\)"):
        module(x, (h0, h0))
    out, (h_n, _) = module(x, (h0, c0))
    with pytest.raises(ValueError, match=r"LSTM.backward: expected grad of c_n of shape \(1, 2, 5\)"):
        module.backward(out, (h_n, h_n))


def test_proj_size_is_for_lstm_only():
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.RNNBase("GRU", H_IN, H, proj_size=2)


@pytest.mark.parametrize("kind", KINDS)
def test_an_inplace_module_after_the_layer_leaves_its_gradients_alone(kind):
    """The layer keeps its hidden states for backward: the output it returns is a copy, so LeakyReLU(inplace=True)
    on it changes no gradient (test_no_mutation.py's chains take modules of one input only)."""
    results = []
    for give_a_copy in (True, False):
        module, (x,) = make(kind, seed=2)
        out, _ = module(x)
        act = nn.LeakyReLU(0.1, inplace=True)
        y = act(out.copy() if give_a_copy else out)
        dx = module.backward(act.backward(np.random.default_rng(1).standard_normal(y.shape)))
        results.append([dx, *(np.copy(p.grad) for p in module.parameters())])
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)
