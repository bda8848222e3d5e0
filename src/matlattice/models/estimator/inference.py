"""Chunked inference over an estimator's members, and splitting estimator input into
formulas and targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from matlattice.data.dataset import Dataset
from matlattice.errors import InvalidParameterError
from matlattice.models.estimator.members import dropout_on

__all__ = ["PREDICT_CHUNK", "forward_members", "targets_frame"]

PREDICT_CHUNK = 65_536  # formulas parsed and encoded at a time when predicting


def targets_frame(X: object, y: object) -> tuple[object, pd.DataFrame]:
    """Split (X, y) into formulas and a targets frame; y may be None if X is a frame/Dataset."""
    if isinstance(X, Dataset):
        X = X.frame
    if y is None:
        if not isinstance(X, pd.DataFrame):
            raise InvalidParameterError(
                "y is required unless X is a DataFrame or Dataset with targets"
            )
        skip = {"formula", "split", "fold", "entry_id"}
        columns = [c for c in X.columns if c not in skip and pd.api.types.is_numeric_dtype(X[c])]
        if not columns:
            raise InvalidParameterError(f"no numeric target column in {list(X.columns)}")
        return X["formula"], X[columns]
    if isinstance(y, pd.Series):
        y = y.to_frame(name=str(y.name or "target"))
    if not isinstance(y, pd.DataFrame):
        arr = np.asarray(y, dtype=float)
        arr = arr.reshape(len(arr), -1)
        y = pd.DataFrame(
            arr,
            columns=[f"target_{j}" for j in range(arr.shape[1])]
            if arr.shape[1] > 1
            else ["target"],
        )
    return X, y


def forward_members(
    model,
    fractions: sp.csr_matrix,
    *,
    embed: bool = False,
    rate: bool = False,
    mc_samples: int = 0,
    log_var: bool = False,
    clip: bool = True,
):
    """Raw outputs of every member of a fitted lattice estimator for ``fractions`` (CSR, one
    row per material): ``(n_members, n, n_tasks)`` (or embeddings of member 0,
    ``(n, latent_dim)``, or its rate ``(n,)``), computed chunk by chunk, bounded memory.
    ``mc_samples > 0`` keeps dropout on and stacks that many passes per member
    (``(n_members * mc_samples, n, n_tasks)``, Monte Carlo dropout). ``log_var`` appends
    a heteroscedastic head's log-variances: ``(..., n, 2 * n_tasks)``. ``clip=False`` feeds
    MLP features unclipped by the training box (for distances to the training data)."""
    embed = embed or rate
    device = torch.device(model.device)
    members = model.members_[:1] if embed else model.members_
    outputs = []
    for start in range(0, fractions.shape[0], PREDICT_CHUNK):
        inputs = model._inputs(fractions[start : start + PREDICT_CHUNK], clip=clip)
        # sort by token count so batches carry little padding; undone below
        order = (
            torch.argsort((inputs[1] > 0).sum(dim=1), stable=True)
            if model.encoder == "attention"
            else torch.arange(len(inputs[0]))
        )
        inputs = tuple(t[order].to(device) for t in inputs)
        restore = torch.argsort(order).numpy()
        chunk = []
        passes = max(int(mc_samples), 1)
        with torch.no_grad():
            for m, net in enumerate(members):
                net.to(device).eval()
                if mc_samples:
                    dropout_on(net, seed=model.random_state + 7919 * m)
                for _ in range(passes):
                    pieces = []
                    for b in range(0, len(inputs[0]), 4096):
                        batch = tuple(t[b : b + 4096] for t in inputs)
                        fn = net.rate if rate else net.embed if embed else net
                        out = fn(*batch)
                        if log_var:
                            out = torch.cat([out, net.log_var], dim=1)
                        pieces.append(out.cpu())
                    chunk.append(torch.cat(pieces).numpy()[restore])
                net.eval()
        outputs.append(np.stack(chunk))
    out = np.concatenate(outputs, axis=1) if outputs else np.zeros((len(members), 0, 0))
    return out[0] if embed else out
