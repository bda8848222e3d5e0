"""Which forest, on which features, per Matbench task: chosen inside each training fold only.

Six arms: a random forest or extremely randomised trees (scikit-learn's, as
``MultiTaskForest(forest=...)`` grows them; 500 trees), on the Magpie statistics, the element
fractions, or both side by side. On each official fold every arm is scored on the test fold,
and one arm is *chosen* by ``--inner``-fold cross-validation on that fold's training rows
alone (200 trees per inner fit), so the chosen arm's score is an honest estimate; the
per-arm test scores are shown for the record, not for choosing. Regression is scored by MAE,
classification by balanced accuracy of labels cut at 0.5 (the leaderboard's metric).

Writes ``bench/results/forest_arms/<task>.json`` and ``bench/results/forest_arms.md`` (a task
already there is kept unless ``--force``).

Run: ``python bench/forest_arms.py --tasks matbench_steels matbench_glass``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from matbench import LEADERBOARD
from per_task import run_per_task
from provenance import provenance, recorded_machines
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import KFold

from matlattice.data import load_dataset
from matlattice.models.forest.estimator import FORESTS
from matlattice.represent import ElementStatsFeaturizer, FractionFeaturizer
from matlattice.runtime.files import atomic_write_text

RESULTS = Path(__file__).parent / "results"
PER_TASK = RESULTS / "forest_arms"
ARMS = [(forest, features) for forest in FORESTS for features in ("stats", "fractions", "both")]


def feature_sets(formulas: list[str]) -> dict[str, np.ndarray]:
    stats = ElementStatsFeaturizer("magpie", missing="mean").fit().transform(formulas)
    fractions = FractionFeaturizer().fit().transform(formulas)
    fractions = fractions[:, fractions.std(axis=0) > 0]  # elements the task never holds
    return {"stats": stats, "fractions": fractions, "both": np.hstack([stats, fractions])}


def arm_score(arm, X, y, train, test, classify: bool, trees: int) -> float:
    forest, features = arm
    model = FORESTS[forest][classify](n_estimators=trees, random_state=0, n_jobs=-1)
    predicted = model.fit(X[features][train], y[train]).predict(X[features][test])
    if classify:
        return float(balanced_accuracy_score(y[test], predicted))
    return float(np.abs(predicted - y[test]).mean())


def run_task(task: str, inner: int) -> dict:
    frame = load_dataset(task).frame
    prop = next(c for c in frame.columns if c not in ("formula", "fold", "entry_id"))
    metric = LEADERBOARD[task][0]
    classify = metric != "mae"
    X, y = feature_sets(frame["formula"].tolist()), frame[prop].to_numpy()
    y = y.astype(int) if classify else y.astype(float)
    folds, names = [], ["/".join(a) for a in ARMS]
    for k in sorted(frame["fold"].unique()):
        train = np.flatnonzero(frame["fold"].to_numpy() != k)
        test = np.flatnonzero(frame["fold"].to_numpy() == k)
        scores = {
            n: arm_score(a, X, y, train, test, classify, 500)
            for n, a in zip(names, ARMS, strict=True)
        }
        splits = KFold(inner, shuffle=True, random_state=0).split(train)
        inner_scores = {n: [] for n in names}
        for fit_rows, check_rows in splits:
            for n, a in zip(names, ARMS, strict=True):
                inner_scores[n].append(
                    arm_score(a, X, y, train[fit_rows], train[check_rows], classify, 200)
                )
        sign = 1 if classify else -1
        chosen = max(names, key=lambda n: sign * np.mean(inner_scores[n]))
        inner_means = {n: float(np.mean(v)) for n, v in inner_scores.items()}
        folds.append({"fold": int(k), "test": scores, "chosen": chosen,
                      "chosen_score": scores[chosen], "inner": inner_means})  # fmt: skip
        print(task, k, chosen, round(scores[chosen], 4), flush=True)
    return {
        "task": task, "metric": metric, "leaderboard": LEADERBOARD[task][1], "folds": folds,
        "chosen_mean": float(np.mean([f["chosen_score"] for f in folds])),
        "arm_means": {n: float(np.mean([f["test"][n] for f in folds])) for n in names},
        "inner_folds": inner, **provenance(),
    }  # fmt: skip


def write_table() -> None:
    records = {p.stem: json.loads(p.read_text()) for p in sorted(PER_TASK.glob("*.json"))}
    names = ["/".join(a) for a in ARMS]
    lines = [
        "# Forest arms per Matbench task, chosen inside each training fold",
        "",
        f"Machine: {recorded_machines(records.values())}. Official 5 folds, seed "
        "0. 'chosen' is the arm picked by cross-validation on each training fold alone (its "
        "test score is honest); the arm columns are each arm's mean test score, for the record "
        "only. MAE for regression, balanced accuracy at a 0.5 cut for classification. "
        "Commands and dates in `forest_arms/<task>.json`.",
        "",
        f"| task | metric | chosen (mean) | chosen per fold | {' | '.join(names)} | top entry |",
        "|---|---|---|---|" + "---|" * len(names) + "---|",
    ]
    for task, r in records.items():
        picks = ", ".join(f["chosen"] for f in r["folds"])
        arms = " | ".join(f"{r['arm_means'][n]:.4g}" for n in names)
        top = r["leaderboard"][0]
        lines.append(f"| {task} | {r['metric']} | **{r['chosen_mean']:.4g}** | {picks} | {arms} "
                     f"| {top[0]} {top[1]} |")  # fmt: skip
    atomic_write_text(RESULTS / "forest_arms.md", "\n".join([*lines, ""]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=list(LEADERBOARD), choices=list(LEADERBOARD))
    parser.add_argument("--inner", type=int, default=3, help="inner folds of the choice (>= 2)")
    parser.add_argument("--force", action="store_true", help="rerun a task already written")
    args = parser.parse_args()
    if args.inner < 2:
        parser.error(f"--inner {args.inner}: need at least 2 folds")
    run_per_task(args.tasks, PER_TASK, lambda task: run_task(task, args.inner), write_table,
                 args.force)  # fmt: skip


if __name__ == "__main__":
    main()
