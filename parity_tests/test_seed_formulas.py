"""Seeds 003 and 004 (``/work/shared/seeds/``, in Portuguese) as golden tests.

Neither seed prints a number to check, so the oracle here is the seed's own code and formulas, run live:

- 003 "Treinamento de Redes Neurais" (slides):
  "Implementando do Zero: Exemplo Numérico", a 2-3-1 tanh/sigmoid network in NumPy (forward, backward,
  update_params), and the suggested exercise "Nível Iniciante" (train it on XOR); the updates
  "w = w - η∇L(w)" (SGD) and "v = γv - η∇L(w), w = w + v" (SGD com Momentum); "Fórmulas do Adam" with its
  table of typical values; the Keras snippets of "Prática: Otimizadores no Keras" (SGD with Nesterov,
  Adam with epsilon=1e-7, the learning-rate scheduler over 30 epochs) and "Prática: Construindo e
  Treinando uma Rede" (the 784-128-64-10 MNIST model).
- 004 README "Regra da Cadeia": f(x) = (2x + 3)³ has f'(x) = 3(2x + 3)² · 2 = 6(2x + 3)².

Each is computed with scratch and, side by side, with torch.
"""

import math

import numpy as np
import pytest
import torch

import torch_ref
from scratch import nn, optim
from scratch.random import manual_seed
from torch_ref.convert import to_torch_optimizer
from torch_ref.testing import DTYPES, assert_close, assert_loss_parity, assert_module_parity
from torch_ref.tolerance import rtol, trajectory_rtol

F64 = np.float64


# ------------------------------------------------------------- 003 "Implementando do Zero"
def seed_init_params(rng):
    """The seed's init_params, drawing from ``rng`` (np.random.RandomState) instead of the global np.random."""
    W1 = rng.randn(3, 2) * 0.01
    b1 = np.zeros((3, 1))
    W2 = rng.randn(1, 3) * 0.01
    b2 = np.zeros((1, 1))
    return W1, b1, W2, b2


def seed_forward(X, W1, b1, W2, b2):
    """The seed's forward, verbatim: X holds one sample per *column*, (2, m)."""
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = 1 / (1 + np.exp(-Z2))  # sigmoid
    return Z1, A1, Z2, A2


def seed_backward(X, Y, Z1, A1, Z2, A2, W2):
    """The seed's backward, verbatim."""
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return dW1, db1, dW2, db2


def seed_update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, lr):
    """The seed's update_params (SGD simples), verbatim."""
    W1 = W1 - lr * dW1
    b1 = b1 - lr * db1
    W2 = W2 - lr * dW2
    b2 = b2 - lr * db2
    return W1, b1, W2, b2


def from_scratch_network(params, dtype):
    """Linear(2, 3) → Tanh → Linear(3, 1) → Sigmoid holding the seed's (W1, b1, W2, b2). The seed's W1 is
    already (out, in), torch's layout; its column biases become 1-D."""
    W1, b1, W2, b2 = params
    model = nn.Sequential(nn.Linear(2, 3, dtype=dtype), nn.Tanh(), nn.Linear(3, 1, dtype=dtype), nn.Sigmoid())
    model.load_state_dict({"0.weight": W1.astype(dtype), "0.bias": b1[:, 0].astype(dtype),
                           "2.weight": W2.astype(dtype), "2.bias": b2[:, 0].astype(dtype)})
    return model


def params_of(model):
    """The parameters in the seed's layout: W1, b1 (column), W2, b2 (column)."""
    lin1, lin2 = model[0], model[2]
    return lin1.weight.data, lin1.bias.data[:, None], lin2.weight.data, lin2.bias.data[:, None]


def grads_of(model):
    """The gradients in the seed's layout: dW1, db1 (column), dW2, db2 (column)."""
    lin1, lin2 = model[0], model[2]
    return lin1.weight.grad, lin1.bias.grad[:, None], lin2.weight.grad, lin2.bias.grad[:, None]


def scratch_step(model, criterion, X, Y):
    """Forward and backward on the seed's column layout (samples become rows). The seed's dZ2 = A2 - Y,
    averaged over m, is dL/dZ2 for the mean binary cross-entropy of the sigmoid output: BCELoss()."""
    model.zero_grad()
    loss = criterion(model(X.T), Y.T)
    model.backward(criterion.backward())
    return loss


def batch_003(dtype):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 8)).astype(dtype)
    Y = rng.integers(0, 2, (1, 8)).astype(dtype)
    # The seed's 0.01 scale; RandomState so that the draw is np.random.randn's, as in the seed.
    params = tuple(p.astype(dtype) for p in seed_init_params(np.random.RandomState(3)))
    return X, Y, params


@pytest.mark.parametrize("dtype", DTYPES)
def test_003_from_scratch_backward_gives_the_seeds_gradients(dtype):
    X, Y, params = batch_003(dtype)
    Z1, A1, Z2, A2 = seed_forward(X, *params)
    expected = seed_backward(X, Y, Z1, A1, Z2, A2, params[2])
    model, criterion = from_scratch_network(params, dtype), nn.BCELoss()
    scratch_step(model, criterion, X, Y)
    tol = rtol(dtype, X.shape[1])
    assert_close(model(X.T).T, A2, tol, "A2")
    twin, torch_criterion = torch_ref.to_torch(model), torch.nn.BCELoss()
    torch_criterion(twin(torch.from_numpy(X.T.copy())), torch.from_numpy(Y.T.copy())).backward()
    torch_grads = [p.grad.numpy() for p in twin.parameters()]  # 0.weight, 0.bias, 2.weight, 2.bias
    for name, ours, seed, theirs in zip(("dW1", "db1", "dW2", "db2"), grads_of(model), expected, torch_grads):
        assert ours.dtype == dtype and np.linalg.norm(seed) > 1e-6
        assert_close(ours, seed, tol, f"{name} vs the seed's code")
        assert_close(ours, theirs.reshape(ours.shape), tol, f"{name} vs torch")


@pytest.mark.parametrize("dtype", DTYPES)
def test_003_update_params_is_one_sgd_step(dtype):
    X, Y, params = batch_003(dtype)
    Z1, A1, Z2, A2 = seed_forward(X, *params)
    seed_new = seed_update_params(*params, *seed_backward(X, Y, Z1, A1, Z2, A2, params[2]), lr=0.5)
    model = from_scratch_network(params, dtype)
    scratch_step(model, nn.BCELoss(), X, Y)
    optim.SGD(model.parameters(), lr=0.5).step()
    ours = params_of(model)
    for name, new, old, seed in zip(("W1", "b1", "W2", "b2"), ours, params, seed_new):
        assert np.linalg.norm(new - old) > 1e-6, f"{name} did not move"
        assert_close(new, seed, rtol(dtype, X.shape[1]), name)


XOR_X = np.array([[0, 0, 1, 1], [0, 1, 0, 1]], dtype=F64)  # the seed's column layout: one sample per column
XOR_Y = np.array([[0, 1, 1, 0]], dtype=F64)
XOR_SEED, XOR_LR, XOR_STEPS = 24, 2.0, 5000


def test_003_xor_exercise_trains_like_the_seeds_code():
    """"Nível Iniciante": the seed's network trained on XOR by full-batch gradient descent, scratch and the
    seed's code side by side. With the seed's 0.01 init the network sits on the symmetric plateau (every
    output 0.5) for thousands of steps before it escapes: this init solves XOR (every output within 0.1) in
    ~4400 steps with lr 2.0, ~8800 with lr 1.0 and ~17500 with lr 0.5."""
    params = seed_init_params(np.random.RandomState(XOR_SEED))
    model, criterion = from_scratch_network(params, F64), nn.BCELoss()
    opt = optim.SGD(model.parameters(), lr=XOR_LR)
    for step in range(1, XOR_STEPS + 1):
        scratch_step(model, criterion, XOR_X, XOR_Y)
        opt.step()
        Z1, A1, Z2, A2 = seed_forward(XOR_X, *params)
        params = seed_update_params(*params, *seed_backward(XOR_X, XOR_Y, Z1, A1, Z2, A2, params[2]), lr=XOR_LR)
        if step % 500 == 0 or step == XOR_STEPS:
            ours = params_of(model)
            for name, p, seed in zip(("W1", "b1", "W2", "b2"), ours, params):
                assert_close(p, seed, trajectory_rtol(F64, 4, step), f"{name} after step {step}")
    out = model(XOR_X.T)[:, 0]
    np.testing.assert_allclose(out, seed_forward(XOR_X, *params)[3][0], rtol=trajectory_rtol(F64, 4, XOR_STEPS))
    assert np.abs(out - XOR_Y[0]).max() < 0.01  # solved: about [0.0023, 0.9983, 0.9984, 0.0025]
    assert (out > 0.5).astype(int).tolist() == [0, 1, 1, 0]


# ------------------------------------------------------------------- 003 optimizer formulas
def seed_sgd(w, g, state, lr):
    """"w = w - η∇L(w)"."""
    return w - lr * g


def seed_momentum(w, g, state, lr, gamma=0.9):
    """"v = γv - η∇L(w) e w = w + v" (v starts at 0). torch keeps b = -v/η instead: the same for a constant η."""
    state["v"] = gamma * state.get("v", 0.0) - lr * g
    return w + state["v"]


def keras_nesterov(w, g, state, lr, momentum=0.9):
    """Keras's SGD(nesterov=True) (its documented rule): v = μv - ηg, w = w + μv - ηg."""
    state["v"] = momentum * state.get("v", 0.0) - lr * g
    return w + momentum * state["v"] - lr * g


def seed_adam(w, g, state, lr, beta1, beta2, eps):
    """"Fórmulas do Adam" 1-4, with t counting from 1."""
    t = state["t"] = state.get("t", 0) + 1
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


ADAM_TABLE = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}  # ε's "10{x" is garbled in the seed: 10⁻⁸
# case: (scratch optimizer, its options, the seed's formula, the formula's constants, gradient scale)
OPTIMIZER_CASES = {
    "SGD: w = w - η∇L(w)": (optim.SGD, {"lr": 0.1}, seed_sgd, {"lr": 0.1}, 1.0),
    "SGD com Momentum, γ = 0.9": (optim.SGD, {"lr": 0.1, "momentum": 0.9}, seed_momentum, {"lr": 0.1}, 1.0),
    "Keras SGD(learning_rate=0.01, momentum=0.9, nesterov=True)":
        (optim.SGD, {"lr": 0.01, "momentum": 0.9, "nesterov": True}, keras_nesterov, {"lr": 0.01}, 1.0),
    # gradients of 1e-6 make √v̂ ~ 1e-6, where ε = 1e-8 or 1e-7 visibly changes the step
    "Adam, the table's values (torch's defaults)": (optim.Adam, {}, seed_adam, ADAM_TABLE, 1e-6),
    "Keras Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)":
        (optim.Adam, {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7}, seed_adam, ADAM_TABLE | {"eps": 1e-7}, 1e-6),
}
OPT_STEPS = 25


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", OPTIMIZER_CASES)
def test_003_optimizer_follows_the_seeds_formula(case, dtype):
    cls, options, formula, constants, scale = OPTIMIZER_CASES[case]
    rng = np.random.default_rng(7)
    w = rng.standard_normal((4, 3)).astype(dtype)
    param = nn.Parameter(w.copy())
    torch_param = torch.nn.Parameter(torch.from_numpy(w.copy()))
    opt = cls([param], **options)
    torch_opt = to_torch_optimizer(opt, {id(param): torch_param})
    state = {}
    for step in range(1, OPT_STEPS + 1):
        g = (scale * rng.standard_normal(w.shape)).astype(dtype)
        param.grad, torch_param.grad = g.copy(), torch.from_numpy(g.copy())
        opt.step()
        torch_opt.step()
        w = formula(w, g, state, **constants)
        assert param.data.dtype == w.dtype == dtype
        assert_close(param.data, w, trajectory_rtol(dtype, 1, step), f"step {step} vs the seed's formula")
        assert_close(param.data, torch_param.detach().numpy(), trajectory_rtol(dtype, 1, step), f"step {step} vs torch")


def test_003_adam_defaults_are_the_seeds_typical_values():
    defaults = optim.Adam([nn.Parameter(np.zeros(2))]).defaults
    assert (defaults["lr"], defaults["betas"], defaults["eps"]) == (0.001, (0.9, 0.999), 1e-8)


# -------------------------------------------------------------- 003 learning-rate schedule
def seed_scheduler(epoch, lr):
    """The seed's scheduler, with math.exp for tf.math.exp (which rounds e^-0.1 to float32 in Keras)."""
    if epoch < 10:
        return lr
    else:
        return lr * math.exp(-0.1)


def test_003_keras_learning_rate_schedule_is_multiplicative_lr():
    """Keras's LearningRateScheduler sets lr = scheduler(epoch, lr) as each epoch starts; MultiplicativeLR
    multiplies lr by λ(epoch) at each scheduler.step(), the previous epoch's end, so λ(epoch) = scheduler(epoch, 1)."""
    keras_lrs, lr = [], 0.001  # modelo.fit(..., epochs=30) with Adam's lr
    for epoch in range(30):
        lr = seed_scheduler(epoch, lr)
        keras_lrs.append(lr)
    opt = optim.Adam([nn.Parameter(np.zeros(2))], lr=0.001)
    torch_opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=0.001)
    sched = optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: seed_scheduler(epoch, 1.0))
    torch_sched = torch.optim.lr_scheduler.MultiplicativeLR(torch_opt, lambda epoch: seed_scheduler(epoch, 1.0))
    ours, theirs = [], []
    for _ in range(30):
        ours.append(opt.param_groups[0]["lr"])
        theirs.append(torch_opt.param_groups[0]["lr"])
        opt.step()  # an epoch's training (no gradients here), then the scheduler
        torch_opt.step()
        sched.step()
        torch_sched.step()
    np.testing.assert_allclose(ours, keras_lrs, rtol=1e-14)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    assert ours[:10] == [0.001] * 10 and ours[10] < 0.001
    np.testing.assert_allclose(ours[-1], 0.001 * math.exp(-2.0), rtol=1e-14)  # 20 decays: epochs 10 to 29


# -------------------------------------------------------------------- 003 the Keras model
def keras_mnist_model(dtype):
    """The seed's Keras Sequential: Dense(128, relu) on 784 inputs, Dropout(0.2), Dense(64, relu), Dropout(0.2),
    Dense(10, softmax). The softmax goes into the loss: softmax then sparse_categorical_crossentropy is
    CrossEntropyLoss on the logits."""
    return nn.Sequential(nn.Linear(784, 128, dtype=dtype), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(128, 64, dtype=dtype), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(64, 10, dtype=dtype))


def test_003_keras_model_has_the_parameter_count_summary_reports():
    model = keras_mnist_model(F64)
    ours = sum(p.data.size for p in model.parameters())
    theirs = sum(p.numel() for p in torch_ref.to_torch(model).parameters())
    assert ours == theirs == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10 == 109_386  # summary(): Total params


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_003_keras_model_matches_torch(dtype, training):
    manual_seed(0)
    model = keras_mnist_model(dtype).train(training)
    pixels = np.random.default_rng(0).uniform(0.0, 1.0, (16, 784)).astype(dtype)  # MNIST images scaled to [0, 1]
    assert_module_parity(model, pixels)


@pytest.mark.parametrize("dtype", DTYPES)
def test_003_softmax_with_sparse_categorical_crossentropy_is_cross_entropy_loss(dtype):
    rng = np.random.default_rng(1)
    logits, labels = rng.standard_normal((16, 10)).astype(dtype), rng.integers(0, 10, 16)
    probabilities = nn.Softmax(dim=1)(logits)  # Dense(10, activation='softmax')
    sparse_categorical_crossentropy = -np.log(probabilities[np.arange(16), labels]).mean()
    assert_close(nn.CrossEntropyLoss()(logits, labels), sparse_categorical_crossentropy, rtol(dtype, 16), "loss")
    assert_loss_parity(nn.CrossEntropyLoss(), logits, labels)


# ------------------------------------------------------------------- 004 "Regra da Cadeia"
@pytest.mark.parametrize("dtype", DTYPES)
def test_004_chain_rule_example(dtype):
    """f(x) = g(h(x)) with h(x) = 2x + 3 a Linear(1, 1) and g(u) = u³. scratch has no cube, so g'(h(x)) = 3h² is
    the upstream gradient, and Linear's backward multiplies by h'(x) = 2: the seed's f'(x) = 6(2x + 3)²."""
    x = np.array([[-2.0], [-1.5], [-0.5], [0.0], [1.0], [2.5]], dtype=dtype)
    h_layer = nn.Linear(1, 1, dtype=dtype)
    h_layer.load_state_dict({"weight": np.array([[2.0]], dtype=dtype), "bias": np.array([3.0], dtype=dtype)})
    h = h_layer(x)
    upstream = np.random.default_rng(4).standard_normal(x.shape).astype(dtype)  # a random dL/df
    grad_x = h_layer.backward(upstream * 3 * h ** 2)  # dL/df · g'(h(x)) · h'(x)
    assert grad_x.dtype == dtype
    assert_close(grad_x, upstream * 6 * (2 * x + 3) ** 2, rtol(dtype), "dL/df · f'(x) vs 6(2x + 3)²")
    x_torch = torch.from_numpy(x.copy()).requires_grad_()
    ((2 * x_torch + 3) ** 3).backward(torch.from_numpy(upstream))
    assert_close(grad_x, x_torch.grad.numpy(), rtol(dtype), "dL/df · f'(x) vs torch autograd")
