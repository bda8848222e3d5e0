"""Non-learned compressions measured like the learned ones: PCA and random projection of the
standardised Magpie features at the same widths."""

from __future__ import annotations

import time

import numpy as np
from sklearn.manifold import trustworthiness

from matlattice.compression.metrics import (
    linear_cka,
    normalised_fidelity,
    per_sample_knn_overlap,
    predictive_scores,
)
from matlattice.compression.width import BYTES_PER_VALUE, _mlp_map, _standard_features, mean_finite


def compression_baselines(
    train, test, tasks, probe, dims, floor, ceiling, key, classification, widest_by_seed, k, seed
) -> dict:
    """PCA and random projection of the standardised features, scored like the embeddings:
    one MLP head for all properties on the compressed features (for classes, its output is
    ranked for ROC-AUC)."""
    from sklearn.decomposition import PCA
    from sklearn.random_projection import GaussianRandomProjection

    x_train, x_test = _standard_features(train["formula"], test["formula"])
    widest_emb = next(iter(widest_by_seed.values()))["embedding"]
    y_train = train[tasks].to_numpy(dtype=float)
    y_test = test[tasks].to_numpy(dtype=float)
    out: dict[str, list] = {"pca": [], "random_projection": []}
    for d in dims:
        if d > x_train.shape[1]:
            continue
        for label, reducer in (
            ("pca", PCA(d, random_state=seed)),
            ("random_projection", GaussianRandomProjection(d, random_state=seed)),
        ):
            start = time.perf_counter()
            z_train = reducer.fit_transform(x_train)
            z_test = reducer.transform(x_test)
            pred = _mlp_map(z_train, y_train, z_test, seed)  # all properties at once
            predictive = {}
            for j, t in enumerate(tasks):
                entry = predictive_scores(y_test[:, j], pred[:, j], classification=classification)
                entry["normalised"] = normalised_fidelity(entry[key], floor[t], ceiling[t])
                predictive[t] = entry
            if label == "pca":
                rebuilt = reducer.inverse_transform(z_test)
            else:  # least-squares linear decoder fitted on the training part
                decoder, *_ = np.linalg.lstsq(z_train, x_train, rcond=None)
                rebuilt = z_test @ decoder
            from sklearn.metrics import r2_score

            out[label].append(
                {
                    "d": d,
                    "predictive": predictive,
                    "mean_normalised": mean_finite([predictive[t]["normalised"] for t in tasks]),
                    "knn_overlap": {
                        "features": float(
                            per_sample_knn_overlap(x_test[probe], z_test[probe], k).mean()
                        ),
                        "widest": float(
                            per_sample_knn_overlap(widest_emb, z_test[probe], k).mean()
                        ),
                    },
                    "trustworthiness": float(
                        trustworthiness(x_test[probe], z_test[probe], n_neighbors=k)
                    ),
                    "cka": linear_cka(widest_emb, z_test[probe]),
                    "reconstruction_r2": float(
                        r2_score(x_test, rebuilt, multioutput="variance_weighted")
                    ),
                    "cost": {
                        "bytes_per_material": d * BYTES_PER_VALUE,
                        "fit_s": time.perf_counter() - start,
                    },
                }
            )
    return out
