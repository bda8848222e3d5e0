"""Rich tables the CLI prints: run metrics, fidelity sweeps, entanglement lattices."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

__all__ = [
    "console",
    "fmt",
    "print_calibration",
    "print_fidelity",
    "print_lattice",
    "print_metrics",
]

console = Console(soft_wrap=True)  # a line in a log is never broken at 80 columns


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def print_lattice(summary: dict) -> None:
    strongest = sorted(
        (e for e in summary["edges"] if e["weight"] is not None),
        key=lambda e: -e["weight"],
    )[:10]
    table = Table(
        "source", "target", "weight", "label dep.", "rho labels", "grad cos", "alignment", "risk"
    )
    for e in strongest:
        table.add_row(
            e["source"],
            e["target"],
            fmt(e["weight"]),
            fmt(e.get("label_dependence")),
            fmt(e["data_coupling"]),
            fmt(e["gradient_cosine"]),
            fmt(e["representation_alignment"]),
            ", ".join(e["risk"]),
        )
    console.print(table)
    console.print(
        f"regime: {summary['regime']} (without artefacts: "
        f"{summary['regime_without_artefacts']}), density {summary['density']:.3f}, "
        f"modularity {summary['modularity']:.3f}; groups: {summary['groups']}; "
        f"{len(summary['risk_gates'])} risk gates"
    )
    if summary.get("helpers"):
        pairs = "; ".join(f"{t} <- {', '.join(h)}" for t, h in summary["helpers"].items())
        console.print(f"helpers (directed transfer, `fit --helpers`): {pairs}")


def print_fidelity(summary: dict) -> None:
    table = Table("d", "mean fidelity", "k-NN vs features", "CKA", "recon R²", "miscal.", "params")
    for p in summary["per_dim"]:
        table.add_row(
            str(p["d"]),
            fmt(p["mean_normalised"]),
            fmt(p["knn_overlap"]["features"]),
            fmt(p["cka"]),
            fmt(p["reconstruction_r2"]),
            fmt(p["miscalibration_area"]),
            f"{p['cost']['params']:,}",
        )
    console.print(table)
    console.print(
        f"recommended d = {summary['recommended_dim']} (>= {summary['threshold']:.0%} of the "
        f"widest), knee = {summary['knee']}, adaptive path = {summary['adaptive_path']}; "
        f"erodes first: {', '.join(summary['erosion_order']['properties'][:3])}"
    )


def print_metrics(metrics: dict) -> None:
    table = Table("task", "metric", "value", "n_train", "n_test")
    for task, m in metrics["tasks"].items():
        for key in ("mae", "rmse", "r2", "roc_auc", "balanced_accuracy", "accuracy"):
            if key in m:
                std = f" ± {m[key + '_std']:.3g}" if key + "_std" in m else ""
                table.add_row(task, key, f"{m[key]:.4g}{std}", str(m["n_train"]), str(m["n_test"]))
    console.print(table)
    _print_gates(metrics.get("fine_tune_gate", {}), "fine_tuned", "fine-tuned")
    _print_gates(metrics.get("helper_gate", {}), "with_helpers", "with helpers", "helpers")
    _print_gates(metrics.get("group_gate", {}), "with_helpers", "with group mates", "group mates")


def _print_gates(gates: dict, arm: str, label: str, partners: str | None = None) -> None:
    """Per part and task: its ``partners`` (if any), the error the gate read (validation or
    out-of-fold MAE) of the multi-task ``arm`` and of the task alone, and the kept arm."""
    for part, decisions in gates.items():
        out_of_fold = any(d.get("gate_on") == "out_of_fold" for d in decisions.values())
        metric, name = ("oof", "out-of-fold") if out_of_fold else ("val", "val")
        columns = ["task", *([partners] if partners else []), f"{name} MAE {label}"]
        gate = Table(*columns, f"{name} MAE alone", "kept", title=f"gate, {part}")
        for task, d in decisions.items():
            cells = [
                f"{d[f'{metric}_mae_{k}']:.4g}" if f"{metric}_mae_{k}" in d else "-"
                for k in (arm, "alone")
            ]
            partner_cell = [", ".join(d["helpers"]) or "-"] if partners else []
            kept = label if d["chosen"] == arm else d["chosen"]
            gate.add_row(task, *partner_cell, *cells, kept)
        console.print(gate)


def print_calibration(summary: dict) -> None:
    """Per property: miscalibration area, 90 % coverage and Spearman, before -> after."""
    table = Table(title=f"uncertainty calibration ({summary['method']}), test part")
    for column in ("property", "miscal. area", "90 % coverage", "90 % width", "spearman |e|~s"):
        table.add_column(column)
    for task, both in summary["tasks"].items():
        b, a = both["before"], both["after"]
        table.add_row(
            task,
            f"{fmt(b['miscalibration_area'])} -> {fmt(a['miscalibration_area'])}",
            f"{fmt(b['coverage']['0.9'])} -> {fmt(a['coverage']['0.9'])}",
            f"{fmt(b['interval_width']['0.9'])} -> {fmt(a['interval_width']['0.9'])}",
            fmt(a["spearman_error_spread"]),
        )
    console.print(table)
