"""Saving and loading models: a folder of ``config.json`` + ``weights.safetensors``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from matlattice.models.estimator.scaling import TargetScaler
from matlattice.models.networks.inputs import FeatureStandardizer
from matlattice.models.networks.routing import TaskRoutedNet
from matlattice.models.saving import read_model_config, verified_weights
from matlattice.runtime.files import atomic_write, atomic_write_json, file_sha256
from matlattice.uncertainty.calibrators import calibrator_from_dict
from matlattice.uncertainty.domain import ApplicabilityDomain

__all__ = ["load_lattice", "save_lattice"]


def save_lattice(model, folder: Path, format_version: int) -> Path:
    """Write a fitted lattice estimator to ``folder``: ``weights.safetensors`` (every member's
    weights as ``member<m>.<name>``, CV residuals, applicability-domain arrays) and
    ``config.json`` (class, format version, params, tasks, scalers, calibration, domain)."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {
        f"member{m}.{k}": v.detach().cpu().contiguous()
        for m, net in enumerate(model.members_)
        for k, v in net.state_dict().items()
    }
    if getattr(model, "cv_residuals_", None) is not None:
        tensors["cv.fold"] = torch.from_numpy(model.cv_fold_.astype(np.int64))
        tensors["cv.residuals"] = torch.from_numpy(model.cv_residuals_.astype(np.float64))
    if getattr(model, "domain_", None) is not None:
        tensors.update(
            {
                f"domain.{k}": torch.from_numpy(np.ascontiguousarray(v))
                for k, v in model.domain_.arrays().items()
            }
        )
    weights = atomic_write(folder / "weights.safetensors", lambda p: save_file(tensors, str(p)))
    params = model.get_params()
    params["hidden"] = list(params["hidden"])
    standardizer = getattr(model, "standardizer_", None)
    atomic_write_json(
        folder / "config.json",
        {
            "class": type(model).__name__,
            "format_version": format_version,
            "weights_sha256": {weights.name: file_sha256(weights)},
            "params": params,
            "tasks": model.tasks_,
            "scalers": [s.to_dict() for s in model.scalers_],
            "standardizer": asdict(standardizer) if standardizer is not None else None,
            "train_info": model.train_info_,
            "calibration": [c.to_dict() for c in model.calibrators_]
            if getattr(model, "calibrators_", None)
            else None,
            "domain": model.domain_.to_dict() if getattr(model, "domain_", None) else None,
            "n_train": model.n_train_,
            "n_val": model.n_val_,
            "thresholds": getattr(model, "thresholds_", None),
        },
    )
    return folder


def load_lattice(cls, folder: Path, format_version: int):
    """Rebuild a lattice estimator of class ``cls`` written by :func:`save_lattice`: strict
    weight loading, no pickle; members kept at a per-task epoch come back as
    :class:`~matlattice.models.networks.routing.TaskRoutedNet`."""
    config = read_model_config(folder, cls.__name__, format_version)
    params = dict(config["params"])
    params["hidden"] = tuple(params["hidden"])
    model = cls(**params)
    model.tasks_ = list(config["tasks"])
    model.scalers_ = [TargetScaler(**s) for s in config["scalers"]]
    if config["standardizer"] is not None:
        s = config["standardizer"]
        box = {k: tuple(s[k]) for k in ("low", "high") if s.get(k) is not None}  # newer files
        model.standardizer_ = FeatureStandardizer(
            s["table"], tuple(s["mean"]), tuple(s["std"]), **box
        )
    tensors = load_file(str(verified_weights(folder, config, "weights.safetensors")))
    model.cv_fold_, model.cv_residuals_ = None, None
    if "cv.fold" in tensors:
        model.cv_fold_ = tensors["cv.fold"].numpy()
        model.cv_residuals_ = tensors["cv.residuals"].numpy()
    model.domain_ = None
    if config.get("domain"):
        arrays = {k[7:]: v.numpy() for k, v in tensors.items() if k.startswith("domain.")}
        model.domain_ = ApplicabilityDomain.restore(config["domain"], arrays)
    model.members_ = []
    for m in range(int(model.ensemble)):
        prefix = f"member{m}."
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        if "route" in state:
            n_snapshots = len({k.split(".")[1] for k in state if k.startswith("nets.")})
            net = TaskRoutedNet([model._build_net() for _ in range(n_snapshots)], state["route"])
        else:
            net = model._build_net()
        net.load_state_dict(state, strict=True)
        net.eval()
        model.members_.append(net)
    model.train_info_ = config["train_info"]
    if config.get("calibration"):
        model.calibrators_ = [calibrator_from_dict(c) for c in config["calibration"]]
    model.n_train_, model.n_val_ = config["n_train"], config["n_val"]
    if config.get("thresholds") is not None:  # classifiers (files before them: 0.5)
        model.thresholds_ = list(config["thresholds"])
    model.n_features_in_ = 1
    return model
