"""Task weighting rules and soft sharing, each checked against what it promises."""

import numpy as np
import pytest
import torch
from test_estimator import planted_frame  # tests/models is on sys.path (rootdir-relative import)
from torch import nn

from matlattice.models import LatticeRegressor
from matlattice.models.networks.encoders import MLPEncoder, MultiTaskNet
from matlattice.models.networks.task_weighting import TaskBalancer, last_shared_weight
from matlattice.models.networks.training import TrainConfig, masked_task_losses, train_network


def _two_task_data(n=1500, scale=(1.0, 1.0), noise=(0.0, 0.0), seed=0):
    """8 features; task 0 = sin(x0) + x1, task 1 = x2 - x3, each scaled and noised."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    t0 = torch.sin(x[:, 0]) + x[:, 1] + noise[0] * torch.randn(n, generator=g)
    t1 = x[:, 2] - x[:, 3] + noise[1] * torch.randn(n, generator=g)
    y = torch.stack([scale[0] * t0, scale[1] * t1], dim=1)
    y[::4, 1] = float("nan")  # partially labelled, as real property tables are
    return x, y


def _train(weighting, x, y, epochs=25, seed=0):
    torch.manual_seed(seed)
    net = MultiTaskNet(MLPEncoder(8, 6, (32,), 0.0), 6, 2, head_hidden=16)
    split = int(0.8 * len(x))
    config = TrainConfig(
        epochs=epochs,
        batch_size=128,
        lr=3e-3,
        patience=1000,
        seed=seed,
        num_threads=1,
        task_weighting=weighting,
    )
    result = train_network(
        net, (x[:split],), y[:split], (x[split:],), y[split:], torch.tensor([False, False]), config
    )
    return net, result


def test_uncertainty_weighting_down_weights_the_noisy_task():
    x, y = _two_task_data(noise=(0.0, 1.5))
    _, result = _train("uncertainty", x, y, epochs=60)
    last = result.history[-1]
    # learned weight exp(-s_t): the clean task is trusted far more than the noisy one
    assert last["weight_0"] > 2.0 * last["weight_1"], last


def test_gradnorm_balances_the_gradient_norms():
    x, y = _two_task_data(scale=(10.0, 1.0))  # task 0's gradients are ~10x larger
    net, result = _train("gradnorm", x, y)
    last = result.history[-1]
    w = np.array([last["weight_0"], last["weight_1"]])
    assert w.sum() == pytest.approx(2.0, abs=1e-5) and (w > 0).all()
    assert w[0] < 0.5 * w[1], w  # the loud task is turned down
    losses, _ = masked_task_losses(net(x[:512]), y[:512], torch.tensor([False, False]))
    W = last_shared_weight(net)
    raw = np.array([float(torch.autograd.grad(v, W, retain_graph=True)[0].norm()) for v in losses])
    weighted = w * raw
    # the weighted norms are closer to equal than the raw ones
    assert weighted.max() / weighted.min() < raw.max() / raw.min(), (raw, weighted)


def _conflicting_net():
    """A linear shared layer, two linear heads; task losses with opposed shared gradients."""
    torch.manual_seed(0)
    encoder = nn.Linear(3, 2)
    net = MultiTaskNet(encoder, 2, 2, head_hidden=4)
    x = torch.randn(64, 3)
    return net, x


def _shared_grad(net):
    return torch.cat([p.grad.flatten() for p in net.encoder.parameters()])


def test_pcgrad_removes_the_conflict_that_averaging_keeps():
    net, x = _conflicting_net()
    pred, z = net.forward_with_embedding(x)
    losses = torch.stack([pred[:, 0].mean(), -3.0 * pred[:, 0].mean() + pred[:, 1].mean()])
    task_grads = []
    for t in range(2):
        net.zero_grad()
        losses[t].backward(retain_graph=True)
        task_grads.append(_shared_grad(net).clone())
    assert float(task_grads[0] @ task_grads[1]) < 0  # the planted conflict
    present = torch.tensor([True, True])

    net.zero_grad()
    TaskBalancer("equal", 2).backward(losses, present, net, z)
    mean_grad = _shared_grad(net).clone()
    assert min(float(mean_grad @ g) for g in task_grads) < 0  # averaging hurts one task

    net.zero_grad()
    pred, z = net.forward_with_embedding(x)
    losses = torch.stack([pred[:, 0].mean(), -3.0 * pred[:, 0].mean() + pred[:, 1].mean()])
    TaskBalancer("pcgrad", 2).backward(losses, present, net, z)
    surgery = _shared_grad(net)
    assert min(float(surgery @ g) for g in task_grads) >= -1e-6
    # each head still gets exactly its own task's gradient
    head_grad = net.heads[1][-1].weight.grad.clone()
    net.zero_grad()
    pred, _ = net.forward_with_embedding(x)
    (-3.0 * pred[:, 0].mean() + pred[:, 1].mean()).backward()
    torch.testing.assert_close(head_grad, net.heads[1][-1].weight.grad)


@pytest.mark.parametrize("weighting", ["uncertainty", "gradnorm", "pcgrad"])
def test_every_weighting_fits_the_planted_targets(weighting):
    frame = planted_frame()
    model = LatticeRegressor(
        "mlp",
        latent_dim=6,
        hidden=(64,),
        dropout=0.0,
        epochs=80,
        patience=200,
        lr=3e-3,
        num_threads=1,
        task_weighting=weighting,
    ).fit(frame)
    assert model.get_params()["task_weighting"] == weighting
    assert model.score(frame) > 0.7


@pytest.mark.slow
def test_soft_sharing_adapters_learn_and_round_trip(tmp_path):
    frame = planted_frame()
    kw = dict(latent_dim=6, hidden=(64,), dropout=0.0, epochs=60, patience=200, lr=3e-3)
    soft = LatticeRegressor("mlp", adapter_dim=4, num_threads=1, **kw).fit(frame)
    net = soft.members_[0]
    ups = [adapter[-1].weight.detach() for adapter in net.adapters]
    assert all(float(w.abs().max()) > 1e-3 for w in ups)  # zero at start, trained since
    hard = LatticeRegressor("mlp", num_threads=1, **kw).fit(frame)
    count = lambda m: sum(p.numel() for p in m.members_[0].parameters())  # noqa: E731
    assert count(soft) == count(hard) + 2 * (6 * 4 + 4 + 4 * 6 + 6)
    assert soft.score(frame) > 0.7
    again = LatticeRegressor.load(soft.save(tmp_path / "soft"))
    np.testing.assert_allclose(again.predict(frame["formula"]), soft.predict(frame["formula"]))


def test_bad_weighting_and_adapter_values_are_named():
    with pytest.raises(ValueError, match="task_weighting='gradsurgery'"):
        LatticeRegressor("mlp", task_weighting="gradsurgery").fit(["NaCl", "KCl"], [1.0, 2.0])
    with pytest.raises(ValueError, match="adapter_dim=-1"):
        LatticeRegressor("mlp", adapter_dim=-1).fit(["NaCl", "KCl"], [1.0, 2.0])
    with pytest.raises(ValueError, match="variational"):
        LatticeRegressor("mlp", task_weighting="pcgrad", kl_weight=0.1, epochs=1).fit(
            planted_frame()
        )
