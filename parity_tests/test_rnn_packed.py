"""Packed sequences: scratch.nn.utils.rnn against torch.nn.utils.rnn (values, lengths, indices, errors), the
gather/scatter pairs of functional.rnn_packed and RNN, LSTM, GRU on a PackedSequence by finite differences,
and the packed RNN's own semantics (each sequence's final state is the one at its own last step)."""

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as T

from scratch import nn
from scratch.gradcheck import gradcheck
from scratch.nn import functional as F
from scratch.nn.utils import rnn as R
from torch_ref.catalog import rnn as rnn_catalog
from torch_ref.testing import MIN_NORM, UPSTREAM_SEED, assert_close, assert_gradcheck, assert_module_parity, build
from torch_ref.tolerance import rtol

from .test_rnn import Flat

RNG_SEED = 0
TOL = rtol(np.float64, 5 * rnn_catalog.H)  # a batched and an unbatched run: the same sums, other BLAS blocking
LAYOUTS = [([5, 3, 3, 1], True), ([2, 5, 1, 5], False), ([4, 4, 4], True), ([1, 3, 2], False)]


def padded(lengths, batch_first, trailing=(3,), total=None, seed=RNG_SEED):
    rng = np.random.default_rng(seed)
    total = max(lengths) if total is None else total
    shape = (len(lengths), total) if batch_first else (total, len(lengths))
    return rng.standard_normal((*shape, *trailing))


def torch_indices(value):
    return None if value is None else value.numpy()


# ------------------------------------------------------------------ the utils against torch's
@pytest.mark.parametrize("lengths,enforce_sorted", [(lengths, True) for lengths, _ in LAYOUTS if lengths ==
                                                    sorted(lengths, reverse=True)] + [(lengths, False) for lengths, _
                                                                                      in LAYOUTS])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_matches_torch(lengths, enforce_sorted, batch_first):
    x = padded(lengths, batch_first, trailing=(2, 3), total=max(lengths) + 1)  # trailing dims and a padded tail
    ours = R.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    theirs = T.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), batch_first, enforce_sorted)
    assert isinstance(ours, R.PackedSequence) and ours._fields == theirs._fields
    np.testing.assert_array_equal(ours.data, theirs.data.numpy())
    np.testing.assert_array_equal(ours.batch_sizes, theirs.batch_sizes.numpy())
    assert ours.batch_sizes.dtype == np.int64
    for field in ("sorted_indices", "unsorted_indices"):
        expected = torch_indices(getattr(theirs, field))
        assert (getattr(ours, field) is None) == (expected is None)
        if expected is not None:
            np.testing.assert_array_equal(getattr(ours, field), expected)


@pytest.mark.parametrize("lengths,_", LAYOUTS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pad_packed_sequence_round_trip_matches_torch(lengths, _, batch_first, total_length):
    """pad -> pack -> pad gives the input back, padding_value past each end, lengths in the original order."""
    x = padded(lengths, batch_first)
    packed = R.pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False)
    out, out_lengths = R.pad_packed_sequence(packed, batch_first, padding_value=-2.5, total_length=total_length)
    theirs = T.pad_packed_sequence(T.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), batch_first, False),
                                   batch_first, -2.5, total_length)
    np.testing.assert_array_equal(out, theirs[0].numpy())
    np.testing.assert_array_equal(out_lengths, lengths)
    assert out_lengths.dtype == np.int64
    time = np.arange(out.shape[1 if batch_first else 0])
    valid = time[None, :] < np.array(lengths)[:, None]  # (B, T)
    valid = valid if batch_first else valid.T
    inside = valid[: x.shape[0], : x.shape[1]]
    np.testing.assert_array_equal(out[: x.shape[0], : x.shape[1]][inside], x[inside])
    assert np.all(out[~valid] == -2.5)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(padding_side, batch_first):
    rng = np.random.default_rng(RNG_SEED)
    seqs = [rng.standard_normal((n, 2, 3)) for n in (3, 5, 1)]
    ours = R.pad_sequence(seqs, batch_first, 0.5, padding_side)
    theirs = T.pad_sequence([torch.tensor(s) for s in seqs], batch_first, 0.5, padding_side)
    np.testing.assert_array_equal(ours, theirs.numpy())


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_sequence_match_torch(enforce_sorted):
    rng = np.random.default_rng(RNG_SEED)
    seqs = [rng.standard_normal((n, 2)) for n in ((5, 3, 1) if enforce_sorted else (3, 5, 1, 5))]
    ours = R.pack_sequence(seqs, enforce_sorted)
    theirs = T.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted)
    np.testing.assert_array_equal(ours.data, theirs.data.numpy())
    np.testing.assert_array_equal(ours.batch_sizes, theirs.batch_sizes.numpy())
    for ours_seq, seq in zip(R.unpack_sequence(ours), seqs, strict=True):
        np.testing.assert_array_equal(ours_seq, seq)
    pad, lengths = R.pad_packed_sequence(ours)
    for ours_seq, theirs_seq in zip(R.unpad_sequence(pad, lengths), T.unpad_sequence(torch.tensor(pad),
                                                                                      torch.tensor(lengths)),
                                    strict=True):
        np.testing.assert_array_equal(ours_seq, theirs_seq.numpy())


def test_packed_sequence_fills_unsorted_indices_like_torch():
    sorted_indices = np.array([2, 0, 3, 1])
    ours = R.PackedSequence(np.zeros((4, 1)), np.array([4]), sorted_indices)
    theirs = T.PackedSequence(torch.zeros(4, 1), torch.tensor([4]), torch.tensor(sorted_indices))
    np.testing.assert_array_equal(ours.unsorted_indices, theirs.unsorted_indices.numpy())
    assert R.PackedSequence((np.zeros((1, 1)), np.array([1]))).unsorted_indices is None


# ------------------------------------------------------------------ bad input
# torch's own checks raise RuntimeError (from C++), scratch's extra check on lengths ValueError
@pytest.mark.parametrize("lengths,error,message", [
    ([2, 3, 1], RuntimeError, "must be sorted in decreasing order when `enforce_sorted` is True"),
    ([3, 2, 0], RuntimeError, "Length of all samples has to be greater than 0"),
    ([5, 2, 1], ValueError, "at most the padded sequence length 4"),
    ([4, 2], RuntimeError, r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)"),
    ([[4, 2, 1]], RuntimeError, "should be a 1D int64 array"),
])
def test_pack_padded_sequence_rejects_bad_lengths(lengths, error, message):
    with pytest.raises(error, match="pack_padded_sequence: .*" + message):
        R.pack_padded_sequence(np.zeros((4, 3, 2)), lengths)


def test_pack_padded_sequence_rejects_zero_length_unsorted():
    with pytest.raises(RuntimeError, match="pack_padded_sequence: Length of all samples has to be greater than 0"):
        R.pack_padded_sequence(np.zeros((4, 3, 2)), [0, 2, 1], enforce_sorted=False)


def test_pad_packed_sequence_and_pad_sequence_reject_bad_input():
    packed = R.pack_padded_sequence(np.zeros((3, 2, 1)), [3, 1])
    with pytest.raises(ValueError, match="pad_packed_sequence: Expected total_length to be at least the length of "
                                         "the longest sequence in input, but got total_length=2 and max sequence "
                                         "length being 3"):
        R.pad_packed_sequence(packed, total_length=2)
    with pytest.raises(TypeError, match="pad_packed_sequence: expected a PackedSequence"):
        R.pad_packed_sequence(np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match="pad_sequence: received an empty list of sequences"):
        R.pad_sequence([])
    with pytest.raises(RuntimeError, match="pad_sequence: every sequence must have the trailing shape"):
        R.pad_sequence([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(RuntimeError, match="pad_sequence: Expected padding_side to be one of left or right"):
        R.pad_sequence([np.zeros(2)], padding_side="middle")


def test_rnn_rejects_bad_packed_input():
    lstm = nn.LSTM(3, 4, dtype=np.float64)
    good = R.pack_padded_sequence(np.zeros((3, 2, 3)), [3, 1])
    with pytest.raises(ValueError, match=r"LSTM: expected a PackedSequence's data of shape \(S, 3\)"):
        lstm(R.PackedSequence(np.zeros((4, 5)), good.batch_sizes))
    with pytest.raises(ValueError, match="LSTM: expected a PackedSequence's batch_sizes to be positive, "
                                         "non-increasing and to sum to the data's 4 rows"):
        lstm(R.PackedSequence(good.data, np.array([1, 2, 1])))
    with pytest.raises(ValueError, match=r"LSTM: expected h_0 of shape \(1, 2, 4\)"):
        lstm(good, (np.zeros((1, 3, 4)), np.zeros((1, 3, 4))))
    with pytest.raises(ValueError, match="LSTM: input dtype"):
        lstm(R.PackedSequence(good.data.astype(np.float32), good.batch_sizes))
    lstm(good)
    with pytest.raises(ValueError, match=r"LSTM\.backward: expected grad_output of shape"):
        lstm.backward(np.zeros((3, 4)))


# ------------------------------------------------------------------ finite differences
class Pack(nn.Module):
    """pack_padded_sequence as a layer (its pair from functional.rnn_packed): padded -> packed data."""

    def __init__(self, lengths, batch_first):
        super().__init__()
        self.lengths, self.batch_first = lengths, batch_first

    def forward(self, x):
        order = np.argsort(-np.asarray(self.lengths), kind="stable")
        (data, _), cache = F.pack_padded_forward(x, np.asarray(self.lengths)[order], self.batch_first, order)
        self._save(cache)
        return data

    def backward(self, grad_output):
        return F.pack_padded_backward(grad_output, self._saved(grad_output))


class Pad(nn.Module):
    """pad_packed_sequence as a layer: packed data -> padded (with a NaN-free padding value)."""

    def __init__(self, packed, batch_first):
        super().__init__()
        self.packed, self.batch_first = packed, batch_first

    def forward(self, data):
        out, index = F.pad_packed_forward(data, self.packed.batch_sizes, self.packed.sorted_indices,
                                          self.batch_first, 0.25, len(self.packed.batch_sizes) + 1)
        self._save(index)
        return out

    def backward(self, grad_output):
        return F.pad_packed_backward(grad_output, self._saved(grad_output))


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_gradients_by_finite_differences(batch_first):
    lengths = [2, 5, 1, 4]
    x = padded(lengths, batch_first)
    assert_gradcheck(Pack(lengths, batch_first), x)
    packed = R.pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False)
    assert_gradcheck(Pad(packed, batch_first), packed.data)
    layer = Pack(lengths, batch_first)  # pack's backward is pad's forward with zeros
    grad = np.random.default_rng(1).standard_normal(layer(x).shape)
    expected, _ = R.pad_packed_sequence(R.PackedSequence(grad, *packed[1:]), batch_first)
    np.testing.assert_array_equal(layer.backward(grad), expected)


def test_pad_sequence_pair_scatters_and_gathers():
    rng = np.random.default_rng(RNG_SEED)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 5, 1)]
    for side in ("left", "right"):
        out, cache = F.pad_sequence_forward(seqs, True, 0.0, side)
        grads = F.pad_sequence_backward(out, cache)
        for grad, seq in zip(grads, seqs, strict=True):
            np.testing.assert_array_equal(grad, seq)


class FlatPacked(Flat):
    """An RNN on a fixed packing, its float inputs (data, h_0[, c_0]) and outputs (output data, h_n[, c_n]) flat,
    so ``scratch.gradcheck`` (one output array) checks the packed backward, dL/dhx and every parameter."""

    def __init__(self, rnn, packed):
        super().__init__(rnn)
        self.packed = packed

    def _wrap(self, data):
        return R.PackedSequence(data, *self.packed[1:])

    def _unwrap(self, sequence):
        return sequence.data


GRADCHECK = ["GRU[packed,num_layers=2,bidirectional,h_0]", "RNN(tanh)[packed,bidirectional,h_0]",
             "LSTM[packed,proj_size=3,num_layers=2,bidirectional,h_0]", "LSTM[packed,enforce_sorted]"]


@pytest.mark.parametrize("name", GRADCHECK)
def test_packed_rnn_gradients_by_finite_differences(name):
    module, inputs = build(name, np.float64)
    packed, states = inputs[0], inputs[1:]
    flat = [packed.data, *(states[0] if states and isinstance(states[0], tuple) else states)]
    result = gradcheck(FlatPacked(module, packed), *flat, rng=np.random.default_rng(UPSTREAM_SEED))
    result.raise_on_failure()
    names = ["input"] if len(flat) == 1 else [f"input[{i}]" for i in range(len(flat))]
    assert [c.quantity for c in result.checks] == names + [f"rnn.{n}" for n, _ in module.named_parameters()]
    assert all(c.norm > MIN_NORM for c in result.checks), [(c.quantity, c.norm) for c in result.checks]


# ------------------------------------------------------------------ semantics and parity
@pytest.mark.parametrize("kind", list(rnn_catalog.LAYERS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_each_sequence_runs_as_if_alone(kind, bidirectional):
    """Packed: each sequence's output rows and final state equal those of the sequence run alone (unbatched),
    whatever the others' lengths, both directions (the reverse one starting at the sequence's own last step)."""
    rng = np.random.default_rng(RNG_SEED)
    module = rnn_catalog.LAYERS[kind](num_layers=2, bidirectional=bidirectional, dtype=np.float64, rng=rng)
    seqs = [rng.standard_normal((n, rnn_catalog.H_IN)) for n in (3, 5, 1, 4)]
    out, state_n = module(R.pack_sequence(seqs, enforce_sorted=False))
    outs = R.unpack_sequence(out)
    for j, seq in enumerate(seqs):
        alone, alone_state = module(seq)
        assert_close(outs[j], alone, TOL, f"output of sequence {j}")
        for ours, theirs in zip(state_n if kind == "LSTM" else (state_n,), alone_state if kind == "LSTM" else
                                (alone_state,), strict=True):
            assert_close(ours[:, j], theirs, TOL, f"final state of sequence {j}")


@pytest.mark.parametrize("kind", list(rnn_catalog.LAYERS))
def test_full_length_packing_equals_the_padded_run(kind):
    module, (x,) = build(f"{kind}[num_layers=1]", np.float64)
    out, state_n = module(x)
    module.backward(np.ones_like(out) * 0.5)
    packed_out, packed_state = module(R.pack_padded_sequence(x, [x.shape[0]] * x.shape[1]))
    np.testing.assert_array_equal(packed_out.data, out.reshape(-1, out.shape[2]))
    for ours, theirs in zip(packed_state if kind == "LSTM" else (packed_state,),
                            state_n if kind == "LSTM" else (state_n,), strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_takes_the_data_gradient_or_a_packed_sequence(dtype):
    module, inputs = build("GRU[packed,num_layers=2,bidirectional,h_0]", dtype)
    grads = []
    for wrap in (False, True):
        out, h_n = module(*inputs)
        g = np.random.default_rng(3).standard_normal(out.data.shape).astype(dtype)
        dx, dh = module.backward(R.PackedSequence(g, *out[1:]) if wrap else g, np.ones_like(h_n))
        assert isinstance(dx, R.PackedSequence) and dx.data.shape == inputs[0].data.shape and dh.shape == h_n.shape
        np.testing.assert_array_equal(dx.batch_sizes, inputs[0].batch_sizes)
        grads.append((dx.data, dh))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_packed_parity_with_torch_module():
    """assert_module_parity takes a PackedSequence input: the data's gradient is compared with torch's."""
    module, inputs = build("LSTM[packed,proj_size=3,num_layers=2,bidirectional,h_0]", np.float32)
    assert_module_parity(module, *inputs)
