"""Cross-check the network engine against PyTorch: torch.nn + torch.optim from the same weights.

Every optimizer of the shared registry trains the same MLP full batch for 100 steps in both
frameworks (float32 both sides); the losses and final weights must agree to float32 rounding
accumulated over 100 steps. The sharpness (Lanczos on Hessian-vector products) must
equal the top eigenvalue of the Hessian that torch.autograd.functional.hessian builds in full.
"""

import numpy as np
import pytest

from lrviz import nets
from lrviz.engine.optimizers import OPTIMIZERS
from lrviz.nets.train import minibatch_indices

torch = pytest.importorskip("torch")

# Rates at which each optimizer trains the 2-16-2 tanh net on moons visibly in 100 steps.
RATES = {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.05, "rmsprop": 0.003,
         "adam": 0.01, "adamw": 0.01}


def torch_optimizer(name, params, lr, hp, weight_decay=0.0):
    o = torch.optim
    if name == "sgd":
        return o.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return o.SGD(params, lr=lr, momentum=hp["momentum"], weight_decay=weight_decay)
    if name == "nesterov":
        return o.SGD(params, lr=lr, momentum=hp["momentum"], nesterov=True,
                     weight_decay=weight_decay)
    if name == "adagrad":
        return o.Adagrad(params, lr=lr, eps=hp["eps"], weight_decay=weight_decay)
    if name == "rmsprop":
        return o.RMSprop(params, lr=lr, alpha=hp["alpha"], eps=hp["eps"],
                         weight_decay=weight_decay)
    if name == "adam":
        return o.Adam(params, lr=lr, betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"],
                      weight_decay=weight_decay)
    if name == "adamw":
        return o.AdamW(params, lr=lr, betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"],
                       weight_decay=hp["weight_decay"])
    raise ValueError(name)


def torch_model(cfg, params):
    """nn.Sequential with the given (W, b) pairs; nn.Linear stores W transposed."""
    act = torch.nn.Tanh if cfg.activation == "tanh" else torch.nn.ReLU
    layers = []
    for k, (W, b) in enumerate(params):
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if k < len(params) - 1:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def torch_loss(cfg, out, y):
    if cfg.loss == "cross_entropy":
        return torch.nn.functional.cross_entropy(out, y)
    target = torch.nn.functional.one_hot(y, out.shape[1]).to(out.dtype)
    return torch.nn.functional.mse_loss(out, target)


def torch_train(cfg, params, batches=None, scheduler=None):
    data = nets.load_dataset(cfg.dataset)
    X, y = torch.from_numpy(data.X_train.copy()), torch.from_numpy(data.y_train.copy()).long()
    model = torch_model(cfg, params)
    opt = torch_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.optimizer_values(),
                          cfg.weight_decay)
    sched = scheduler(opt) if scheduler else None
    losses = []
    for t in range(cfg.steps):
        with torch.no_grad():
            losses.append(float(torch_loss(cfg, model(X), y)))
        opt.zero_grad()
        idx = slice(None) if batches is None else torch.from_numpy(batches[t]).long()
        torch_loss(cfg, model(X[idx]), y[idx]).backward()
        opt.step()
        if sched:
            sched.step()
    with torch.no_grad():
        losses.append(float(torch_loss(cfg, model(X), y)))
    final = [(lin.weight.detach().numpy().T, lin.bias.detach().numpy())
             for lin in model if isinstance(lin, torch.nn.Linear)]
    return np.array(losses), final


@pytest.fixture(autouse=True)
def _one_torch_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; threads only add scheduling noise here
    yield
    torch.set_num_threads(old)


def assert_same_run(run, losses, final, rtol=2e-4, atol=2e-5):
    np.testing.assert_allclose(run.train_loss, losses, rtol=rtol, atol=atol)
    for (W, b), (Wt, bt) in zip(run.params, final, strict=True):
        np.testing.assert_allclose(W, Wt, rtol=rtol, atol=atol)
        np.testing.assert_allclose(b, bt, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_full_batch_training_matches_torch(name):
    cfg = nets.NetConfig(dataset="moons", hidden=(16,), optimizer=name, lr=RATES[name], steps=100)
    params = nets.init_params(cfg)
    run = nets.train(cfg, params)
    losses, final = torch_train(cfg, params)
    assert losses[-1] < 0.8 * losses[0]  # the runs really trained: a meaningful comparison
    assert_same_run(run, losses, final)


def test_digits_relu_mse_with_weight_decay_matches_torch():
    cfg = nets.NetConfig(dataset="digits", hidden=(32,), activation="relu", loss="mse",
                         optimizer="momentum", lr=0.05, weight_decay=1e-3, steps=100)
    params = nets.init_params(cfg)
    losses, final = torch_train(cfg, params)
    assert_same_run(nets.train(cfg, params), losses, final)


def test_minibatches_and_a_schedule_match_torch():
    cfg = nets.NetConfig(dataset="digits", hidden=(32, 16), optimizer="adam", lr=0.01,
                         steps=100, batch_size=64, schedule="step",
                         schedule_params={"step_size": 30, "gamma": 0.5})
    params = nets.init_params(cfg)
    batches = minibatch_indices(cfg, cfg.steps)
    # every example appears once per epoch (22 whole batches of 64 out of 1438)
    epoch = batches[:22].ravel()
    assert len(np.unique(epoch)) == epoch.size
    losses, final = torch_train(
        cfg, params, batches,
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5))
    assert_same_run(nets.train(cfg, params), losses, final)


@pytest.mark.parametrize("activation, loss", [("tanh", "cross_entropy"), ("relu", "mse")])
def test_sharpness_is_the_top_eigenvalue_of_the_full_torch_hessian(activation, loss):
    cfg = nets.NetConfig(dataset="circles", hidden=(5,), activation=activation, loss=loss,
                         weight_decay=0.01)
    params = nets.init_params(cfg)
    data = nets.load_dataset(cfg.dataset)
    X = torch.from_numpy(data.X_train.copy()).double()
    y = torch.from_numpy(data.y_train.copy()).long()
    shapes = [a.shape for pair in params for a in pair]
    flat0 = torch.from_numpy(np.concatenate([a.ravel() for pair in params for a in pair])
                             ).double()

    def objective(flat):
        parts, k = [], 0
        for s in shapes:
            size = int(np.prod(s))
            parts.append(flat[k : k + size].reshape(s))
            k += size
        h = X
        for i in range(0, len(parts) - 2, 2):
            h = h @ parts[i] + parts[i + 1]
            h = torch.tanh(h) if activation == "tanh" else torch.relu(h)
        out = h @ parts[-2] + parts[-1]
        return torch_loss(cfg, out, y) + 0.5 * cfg.weight_decay * (flat**2).sum()

    H = torch.autograd.functional.hessian(objective, flat0).numpy()
    top = np.linalg.eigvalsh(H)[-1]
    assert top > 0
    assert nets.sharpness(cfg, params) == pytest.approx(top, rel=1e-3)
    # the first measurement of a training run is the same number
    run = nets.train(cfg.with_(steps=10, sharpness_every=10), params)
    assert run.sharpness[0] == pytest.approx(top, rel=5e-3)
