"""Per-task early stopping: each task served by the weights of its own best epoch."""

import numpy as np
import pytest
import torch
from test_estimator import planted_frame  # tests/models is on sys.path (rootdir-relative import)

from matlattice.models import LatticeRegressor
from matlattice.models.networks.encoders import MLPEncoder, MultiTaskNet
from matlattice.models.networks.routing import TaskRoutedNet
from matlattice.models.networks.training import TrainConfig, train_network


def _scarce_and_plentiful(n=2000, seed=0):
    """Task 0: smooth, every row labelled (keeps improving); task 1: noisy, 6 % labelled
    (overfits early)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 10, generator=g)
    t0 = torch.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2]
    t1 = x[:, 3] + 0.8 * torch.randn(n, generator=g)
    y = torch.stack([t0, t1], dim=1)
    y[torch.rand(n, generator=g) > 0.06, 1] = float("nan")
    return x, y


def _train(stopping, x, y, epochs=120):
    torch.manual_seed(0)
    net = MultiTaskNet(MLPEncoder(10, 16, (128, 64), 0.0), 16, 2, head_hidden=32)
    split = int(0.8 * len(x))
    config = TrainConfig(
        epochs=epochs,
        batch_size=64,
        lr=3e-3,
        patience=8,
        seed=0,
        num_threads=1,
        early_stopping=stopping,
    )
    result = train_network(
        net, (x[:split],), y[:split], (x[split:],), y[split:], torch.tensor([False, False]), config
    )
    return result


@pytest.mark.slow
def test_each_task_keeps_its_own_best_epoch_along_the_same_trajectory():
    x, y = _scarce_and_plentiful()
    mean = _train("mean", x, y)
    per_task = _train("per_task", x, y)
    assert mean.task_states is None
    # the same seeded trajectory, run at least as long
    assert per_task.epochs_run >= mean.epochs_run
    np.testing.assert_allclose(
        [h["val_loss"] for h in per_task.history[: mean.epochs_run]],
        [h["val_loss"] for h in mean.history],
        rtol=1e-5,
    )
    # each task's snapshot is the minimum of its own validation curve ...
    for t, epoch in enumerate(per_task.task_best_epochs):
        curve = [h[f"val_loss_{t}"] for h in per_task.history]
        assert epoch == int(np.argmin(curve))
    # ... the scarce task peaks early, the plentiful one late
    assert per_task.task_best_epochs[1] < per_task.task_best_epochs[0]
    assert per_task.task_states[0] is not per_task.task_states[1]


def test_routed_model_is_never_worse_per_task_and_round_trips(tmp_path):
    frame = planted_frame()
    rng = np.random.default_rng(0)
    noisy = frame["t1"] * 2 + 1 + rng.normal(0, frame["t1"].std(), len(frame))
    frame["t2"] = np.where(rng.random(len(frame)) < 0.3, noisy, np.nan)  # scarce and noisy
    val = frame.iloc[::5]
    train = frame.drop(index=val.index)
    kw = dict(
        latent_dim=6,
        hidden=(64,),
        dropout=0.0,
        epochs=150,
        patience=6,
        lr=3e-3,
        num_threads=1,
        target_transform="none",  # scaled loss is then proportional to MAE
    )
    mean = LatticeRegressor("mlp", **kw).fit(train, X_val=val)
    routed = LatticeRegressor("mlp", early_stopping="per_task", **kw).fit(train, X_val=val)
    epochs = routed.train_info_[0]["task_best_epochs"]
    assert set(epochs) == {"t1", "t2"}
    assert epochs["t1"] != epochs["t2"]
    assert isinstance(routed.members_[0], TaskRoutedNet)

    def val_mae(model):
        pred = model.predict(val["formula"])
        truth = val[["t1", "t2"]].to_numpy()
        return np.nanmean(np.abs(pred - truth), axis=0)

    assert np.all(val_mae(routed) <= val_mae(mean) + 1e-6)
    again = LatticeRegressor.load(routed.save(tmp_path / "routed"))
    assert isinstance(again.members_[0], TaskRoutedNet)
    np.testing.assert_allclose(again.predict(frame["formula"]), routed.predict(frame["formula"]))
    # the embedding is the best-mean snapshot's
    np.testing.assert_allclose(routed.transform(val["formula"]).shape, (len(val), 6))


def test_bad_early_stopping_value_is_named():
    with pytest.raises(ValueError, match="early_stopping='best'"):
        LatticeRegressor("mlp", early_stopping="best").fit(["NaCl", "KCl"], [1.0, 2.0])
