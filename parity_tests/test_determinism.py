"""Determinism: the same seed gives bit-identical results, and NumPy's global random state is never used.

Every random draw in scratch goes through an ``rng`` the caller passes or scratch's own default generator
(``scratch.manual_seed``). Each case here runs twice from the same seed, once per way of seeding, and the
bytes must be equal; a different seed must change them, so a case that draws nothing cannot pass.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scratch
from parity_tests.test_no_mutation import LOSSES, MODULES
from scratch import nn, optim
from scratch.data import DataLoader, TensorDataset, random_split, train_test_split
from scratch.training import fit
from torch_ref.arrays import tree_map

SCRATCH_DIR = Path(scratch.__file__).parent
SEEDINGS = ["manual_seed", "rng"]


def seeded(seeding, seed):
    """None after ``scratch.manual_seed(seed)`` (the default generator), or a fresh generator of ``seed``."""
    if seeding == "manual_seed":
        scratch.manual_seed(seed)
        return None
    return np.random.default_rng(seed)


def digest(*arrays):
    """The sha256 of the arrays' dtypes, shapes and bytes."""
    h = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        h.update(f"{array.dtype}{array.shape}".encode())
        h.update(array.tobytes())
    return h.hexdigest()


def assert_deterministic(run, seeding):
    """``run(rng)`` gives the same digest twice from seed 0, and another from seed 1."""
    first, again, other = (run(seeded(seeding, seed)) for seed in (0, 0, 1))
    assert first == again, "the same seed gave different results"
    assert first != other, "a different seed gave the same results: nothing random was drawn"


# --------------------------------------------------------------------------- initialization
def _called(module, *shape):
    """A lazy module after its first call on ones of ``shape``, which draws its initialization."""
    module(np.ones(shape, np.float32))
    return module


INITS = {  # every module class whose default initialization is random
    "LazyLinear": lambda rng: _called(nn.LazyLinear(4, rng=rng), 2, 6),
    "LazyConv1d": lambda rng: _called(nn.LazyConv1d(4, 3, rng=rng), 3, 5),
    "LazyConv2d": lambda rng: _called(nn.LazyConv2d(4, 3, rng=rng), 1, 3, 5, 5),
    "LazyConv3d": lambda rng: _called(nn.LazyConv3d(4, 2, rng=rng), 3, 3, 3, 3),
    "LazyConvTranspose1d": lambda rng: _called(nn.LazyConvTranspose1d(2, 3, rng=rng), 3, 4),
    "LazyConvTranspose2d": lambda rng: _called(nn.LazyConvTranspose2d(2, 3, rng=rng), 1, 3, 4, 4),
    "LazyConvTranspose3d": lambda rng: _called(nn.LazyConvTranspose3d(2, 2, rng=rng), 3, 2, 2, 2),
    "Linear": lambda rng: nn.Linear(6, 4, rng=rng),
    "AdaptiveLogSoftmaxWithLoss": lambda rng: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], div_value=2.0,
                                                                          head_bias=True, rng=rng),
    "Conv1d": lambda rng: nn.Conv1d(3, 4, 3, rng=rng),
    "Conv2d": lambda rng: nn.Conv2d(3, 4, 3, rng=rng),
    "ConvTranspose2d": lambda rng: nn.ConvTranspose2d(3, 2, 3, rng=rng),
    "Conv3d": lambda rng: nn.Conv3d(3, 4, 2, rng=rng),
    "ConvTranspose1d": lambda rng: nn.ConvTranspose1d(3, 2, 3, rng=rng),
    "ConvTranspose3d": lambda rng: nn.ConvTranspose3d(3, 2, 2, rng=rng),
    "RNN": lambda rng: nn.RNN(3, 4, num_layers=2, rng=rng),
    "LSTM": lambda rng: nn.LSTM(3, 4, bias=False, rng=rng),
    "GRU": lambda rng: nn.GRU(3, 4, bidirectional=True, rng=rng),
    "RNNCell": lambda rng: nn.RNNCell(3, 4, nonlinearity="relu", rng=rng),
    "LSTMCell": lambda rng: nn.LSTMCell(3, 4, rng=rng),
    "GRUCell": lambda rng: nn.GRUCell(3, 4, bias=False, rng=rng),
    "Embedding": lambda rng: nn.Embedding(7, 3, padding_idx=0, rng=rng),
    "EmbeddingBag": lambda rng: nn.EmbeddingBag(7, 3, padding_idx=0, rng=rng),
    "Sequential": lambda rng: nn.Sequential(nn.Linear(5, 4, rng=rng), nn.Tanh(), nn.Linear(4, 3, rng=rng)),
    "NonDynamicallyQuantizableLinear": lambda rng: nn.NonDynamicallyQuantizableLinear(6, 4, rng=rng),
    "Bilinear": lambda rng: nn.Bilinear(3, 4, 2, rng=rng),
    "MultiheadAttention": lambda rng: nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=3, rng=rng),
    "TransformerEncoderLayer": lambda rng: nn.TransformerEncoderLayer(8, 2, 16, rng=rng),
    "TransformerDecoderLayer": lambda rng: nn.TransformerDecoderLayer(8, 2, 16, rng=rng),
    "TransformerEncoder": lambda rng: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, rng=rng), 2,
                                                            enable_nested_tensor=False),
    "TransformerDecoder": lambda rng: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, rng=rng), 2),
    "Transformer": lambda rng: nn.Transformer(8, 2, 1, 1, 16, batch_first=True, rng=rng),
}
DETERMINISTIC_INIT = {"PReLU", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "LayerNorm",
                      "RMSNorm", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
                      "LazyInstanceNorm2d", "LazyInstanceNorm3d"}  # constants (a lazy norm's sample is materialized)


def test_every_module_with_parameters_is_covered():
    with_parameters = {name for name, make in MODULES.items()
                       if list(make(np.float32, np.random.default_rng(0))[0].parameters())}
    assert with_parameters == set(INITS) | DETERMINISTIC_INIT
    for name in DETERMINISTIC_INIT:  # and these really draw nothing
        module, _ = MODULES[name](np.float32, np.random.default_rng(0))  # its catalog sample may randomize it
        state = scratch.default_generator().bit_generator.state
        first, second = type(module)(*_args(module)), type(module)(*_args(module))
        assert digest(*first.state_dict().values()) == digest(*second.state_dict().values())
        assert scratch.default_generator().bit_generator.state == state


def _args(module):
    """The positional arguments that rebuild one of DETERMINISTIC_INIT (float32 by default)."""
    if isinstance(module, nn.PReLU):
        return (module.num_parameters,)
    if isinstance(module, nn.GroupNorm):
        return (module.num_groups, module.num_channels)
    if isinstance(module, (nn.LayerNorm, nn.RMSNorm)):
        return (module.normalized_shape,)
    return (module.num_features,)


@pytest.mark.parametrize("seeding", SEEDINGS)
@pytest.mark.parametrize("name", sorted(INITS))
def test_initialization_is_bit_identical_from_the_same_seed(name, seeding):
    assert_deterministic(lambda rng: digest(*INITS[name](rng).state_dict().values()), seeding)


@pytest.mark.parametrize("seeding", SEEDINGS)
@pytest.mark.parametrize("init", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
                                  "kaiming_uniform_", "kaiming_normal_", "orthogonal_"])
def test_init_functions_are_bit_identical_from_the_same_seed(init, seeding):
    assert_deterministic(lambda rng: digest(getattr(nn.init, init)(np.empty((5, 4)), rng=rng)), seeding)


# --------------------------------------------------------------------------- dropout, data
@pytest.mark.parametrize("seeding", SEEDINGS)
@pytest.mark.parametrize("make", [lambda rng: (nn.Dropout(0.4, rng=rng), (6, 8)),
                                  lambda rng: (nn.Dropout2d(0.4, rng=rng), (4, 6, 3, 3)),
                                  lambda rng: (nn.GRU(3, 4, num_layers=3, dropout=0.4, rng=rng), (5, 2, 3))],
                         ids=["Dropout", "Dropout2d", "GRU(dropout)"])
def test_dropout_masks_are_bit_identical_from_the_same_seed(make, seeding):
    def run(rng):
        module, shape = make(rng)
        x = np.random.default_rng(99).standard_normal(shape).astype(np.float32)
        outs = [module(x) for _ in range(3)]  # three masks in a row
        return digest(*[out[0] if isinstance(out, tuple) else out for out in outs])
    assert_deterministic(run, seeding)


def dataset(n=20):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


@pytest.mark.parametrize("seeding", SEEDINGS)
def test_dataloader_shuffle_order_is_bit_identical_from_the_same_seed(seeding):
    def run(rng):
        loader = DataLoader(dataset(), batch_size=6, shuffle=True, rng=rng)
        return digest(*[y for _ in range(3) for _, y in loader])  # three epochs, each its own order
    assert_deterministic(run, seeding)


@pytest.mark.parametrize("seeding", SEEDINGS)
def test_random_split_and_train_test_split_are_bit_identical_from_the_same_seed(seeding):
    def run(rng):
        subsets = random_split(dataset(), [0.5, 0.3, 0.2], rng=rng)
        x = np.arange(40.0).reshape(20, 2)
        parts = train_test_split(x, np.arange(20) % 2, test_size=0.25, stratify=np.arange(20) % 2, rng=rng)
        return digest(*[subset[np.arange(len(subset))][1] for subset in subsets], *parts)
    assert_deterministic(run, seeding)


# --------------------------------------------------------------------------- a training run
def train(rng):
    """A short fit with random init, dropout and shuffling, all drawn from ``rng`` (None: the default)."""
    data = np.random.default_rng(7)
    x = data.standard_normal((40, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8, rng=rng), nn.ReLU(), nn.Dropout(0.3, rng=rng), nn.Linear(8, 2, rng=rng))
    opt = optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, rng=rng)
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=3)
    return digest(*model.state_dict().values(), np.array(history.history["loss"]),
                  *[v for state in opt.state.values() for v in state.values() if isinstance(v, np.ndarray)])


@pytest.mark.parametrize("seeding", SEEDINGS)
def test_a_training_run_is_bit_identical_from_the_same_seed(seeding):
    assert_deterministic(train, seeding)


# the same train() in a bare process: scratch and NumPy only, so it starts in well under a second
SUBPROCESS = "\n".join([
    "import hashlib", "import numpy as np", "import scratch", "from scratch import nn, optim",
    "from scratch.data import DataLoader, TensorDataset", "from scratch.training import fit",
    inspect.getsource(digest), inspect.getsource(train), "scratch.manual_seed(5)", "print(train(None))",
])


def test_a_training_run_in_fresh_processes_with_different_hash_seeds_is_bit_identical():
    root = SCRATCH_DIR.parent
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        done = subprocess.run([sys.executable, "-c", SUBPROCESS], cwd=root, env=env, capture_output=True, text=True,
                              timeout=60, check=True)
        outputs.append(done.stdout.strip())
    scratch.manual_seed(5)
    assert outputs[0] == outputs[1] == train(None)  # and the same as in this process
    assert len(outputs[0]) == 64


# --------------------------------------------------------------------------- NumPy's global state
def exercise_everything():
    """Construct, forward and backward every module and loss, step every optimizer, and use the data tools."""
    for make in MODULES.values():
        module, inputs = make(np.float32, np.random.default_rng(0))
        out = module(*inputs)
        grad = tree_map(np.ones_like, out)
        module.backward(*grad) if isinstance(out, tuple) else module.backward(grad)
    for name in ["Dropout", "Dropout2d"]:  # with scratch's default generator too
        getattr(nn, name)(0.5)(np.ones((4, 3, 2, 2), np.float32))
    for make in LOSSES.values():
        criterion, inputs, target = make(np.float32, np.random.default_rng(0), "mean")
        criterion(*inputs, target)
        criterion.backward()
    for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam"]:
        model = nn.Linear(3, 2)
        model.weight.grad, model.bias.grad = np.ones((2, 3), np.float32), np.ones(2, np.float32)
        getattr(optim, name)(model.parameters()).step()
    for init in ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "kaiming_normal_", "orthogonal_"]:
        getattr(nn.init, init)(np.empty((4, 3)))
    random_split(dataset(), [0.5, 0.5])
    train_test_split(np.arange(20.0), test_size=0.3)
    train(None)


def test_nothing_touches_numpys_global_random_state():
    saved = np.random.get_state()
    try:
        np.random.seed(1234)
        before = np.random.get_state()
        exercise_everything()
        after = np.random.get_state()
        assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:], (
            "NumPy's global random state changed")
    finally:
        np.random.set_state(saved)


ALLOWED = {"default_rng", "Generator", "BitGenerator", "SeedSequence", "PCG64", "PCG64DXSM", "Philox", "SFC64",
           "MT19937"}


def legacy_random_uses(tree):
    """Names used from ``numpy.random`` other than the Generator API: ``np.random.seed(...)``,
    ``numpy.random.rand``, ``from numpy.random import shuffle``, an alias of numpy.random ...; and
    the standard library's ``random``, whose state is global too."""
    numpy_names, random_names, found = {"numpy"}, set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "random":
                    found.append("random")
                elif alias.name == "numpy":
                    numpy_names.add(alias.asname or "numpy")
                elif alias.name == "numpy.random" and alias.asname:
                    random_names.add(alias.asname)
        elif isinstance(node, ast.ImportFrom) and node.module == "random" and node.level == 0:
            found.append("random")
        elif isinstance(node, ast.ImportFrom) and node.module in ("numpy", "numpy.random"):
            for alias in node.names:
                if node.module == "numpy" and alias.name == "random":
                    random_names.add(alias.asname or "random")
                elif node.module == "numpy.random" and alias.name not in ALLOWED:
                    found.append(alias.name)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or node.attr in ALLOWED:
            continue
        value = node.value
        from_module = isinstance(value, ast.Attribute) and value.attr == "random" and (
            isinstance(value.value, ast.Name) and value.value.id in numpy_names)
        from_alias = isinstance(value, ast.Name) and value.id in random_names
        if from_module or from_alias:
            found.append(node.attr)
    return found


def test_scratch_sources_use_no_legacy_numpy_random_function():
    files = sorted(SCRATCH_DIR.rglob("*.py"))
    assert len(files) > 20
    offenders = {str(path.relative_to(SCRATCH_DIR)): uses for path in files
                 if (uses := legacy_random_uses(ast.parse(path.read_text(encoding="utf-8"))))}
    assert not offenders, f"legacy np.random use: {offenders}"


@pytest.mark.parametrize("source", [
    "import numpy as np\nnp.random.seed(0)", "import numpy\nx = numpy.random.rand(3)",
    "import numpy as np\nnp.random.shuffle(a)", "from numpy.random import permutation",
    "from numpy import random as npr\nnpr.choice(3)", "import numpy.random as nr\nnr.normal()",
    "import numpy as xp\nxp.random.randint(3)", "import random\nrandom.shuffle(a)", "from random import choice",
])
def test_the_source_scan_finds_each_kind_of_legacy_use(source):
    assert legacy_random_uses(ast.parse(source))


def test_the_source_scan_allows_the_generator_api():
    source = ("import numpy as np\nfrom .random import get_rng\nrng = np.random.default_rng(0)\n"
              "def f(g: np.random.Generator): g.normal()")
    assert not legacy_random_uses(ast.parse(source))
