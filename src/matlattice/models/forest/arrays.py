"""Tree ensembles as flat arrays: pickle-free saving (safetensors) and vectorised prediction.

A fitted scikit-learn forest is flattened into one node table for all trees; prediction walks
every (sample, tree) pair down the table at once, one vectorised step per tree level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ForestArrays", "forest_to_arrays"]


@dataclass(frozen=True)
class ForestArrays:
    """All trees of a forest in one node table.

    Attributes
    ----------
    roots : (n_trees,) int64
        Index of each tree's root node.
    left, right : (n_nodes,) int64
        Child node indices (-1 at leaves).
    feature : (n_nodes,) int64
        Feature tested at each split node.
    threshold : (n_nodes,) float64
        Go left when ``x[feature] <= threshold``.
    value : (n_nodes, k) float64
        Leaf prediction: the mean target (k = 1) or class probabilities (k = n_classes).
    """

    roots: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray

    def to_tensors(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}.{k}": np.ascontiguousarray(getattr(self, k))
            for k in ("roots", "left", "right", "feature", "threshold", "value")
        }

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray], prefix: str) -> ForestArrays:
        return cls(
            **{
                k: tensors[f"{prefix}.{k}"]
                for k in ("roots", "left", "right", "feature", "threshold", "value")
            }
        )

    def predict(self, X: np.ndarray, return_std: bool = False):
        """Mean leaf value over trees, shape (n_samples, k); with ``return_std`` also the
        standard deviation over the trees (the forest's tree spread), same shape.

        ``X`` has shape (n_samples, n_features), float; NaN is not supported (as in sklearn's
        forests before NaN support, features must be finite).
        """
        leaves = self.tree_values(X)
        return (leaves.mean(axis=1), leaves.std(axis=1)) if return_std else leaves.mean(axis=1)

    def tree_values(self, X: np.ndarray) -> np.ndarray:
        """Every tree's leaf value, shape (n_samples, n_trees, k)."""
        # scikit-learn compares float32 features with float64 thresholds; do the same
        X = np.asarray(X, dtype=np.float32).astype(np.float64)
        n = X.shape[0]
        node = np.broadcast_to(self.roots, (n, len(self.roots))).copy()  # (n, n_trees)
        active = self.left[node] >= 0
        while active.any():
            r, t = np.nonzero(active)
            current = node[r, t]
            go_left = X[r, self.feature[current]] <= self.threshold[current]
            node[r, t] = np.where(go_left, self.left[current], self.right[current])
            active[r, t] = self.left[node[r, t]] >= 0
        return self.value[node]  # (n, n_trees, k)


def forest_to_arrays(forest) -> ForestArrays:
    """Flatten a fitted ``RandomForestRegressor``/``RandomForestClassifier`` (single output)."""
    roots, left, right, feature, threshold, value = [], [], [], [], [], []
    offset = 0
    for estimator in forest.estimators_:
        tree = estimator.tree_
        leaf = tree.children_left < 0
        roots.append(offset)
        left.append(np.where(leaf, -1, tree.children_left + offset))
        right.append(np.where(leaf, -1, tree.children_right + offset))
        feature.append(np.where(leaf, 0, tree.feature))
        threshold.append(tree.threshold)
        v = tree.value[:, 0, :].astype(np.float64)  # (nodes, k)
        if hasattr(forest, "classes_"):
            v = v / v.sum(axis=1, keepdims=True)
        value.append(v)
        offset += tree.node_count
    return ForestArrays(
        roots=np.asarray(roots, dtype=np.int64),
        left=np.concatenate(left).astype(np.int64),
        right=np.concatenate(right).astype(np.int64),
        feature=np.concatenate(feature).astype(np.int64),
        threshold=np.concatenate(threshold).astype(np.float64),
        value=np.concatenate(value),
    )
