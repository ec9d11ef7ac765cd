"""PNG charts of a report: per-type F1, error kinds, the learning curve, and
the confidence charts (threshold curve, reliability diagram, type confusion).

Figures are drawn on matplotlib's Agg canvas directly, without pyplot, so no
display is needed (servers, CI) and the caller's pyplot backend is left alone.
"""
from pathlib import Path
from typing import Any, Dict, List

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .entity_errors import FN_KINDS, FP_KINDS

KIND_COLORS = {
    "type": "#4c72b0",
    "boundary": "#dd8452",
    "type_and_boundary": "#8172b3",
    "spurious": "#c44e52",
    "missed": "#937860",
}


def plot_per_type_f1(report: Dict[str, Any], path: Path) -> Path:
    """Horizontal F1 bars per type (support in the label), micro/macro lines."""
    per_type = report["per_type"]
    labels = sorted(per_type, key=lambda label: per_type[label]["f"])
    fig = Figure(figsize=(7, 0.45 * len(labels) + 1.5))
    ax = fig.subplots()
    ax.barh(
        [f"{label} ({per_type[label]['support']})" for label in labels],
        [per_type[label]["f"] for label in labels],
        color="#4c72b0",
    )
    for name, style in (("micro", "--"), ("macro", ":")):
        if report[name]["f"] is not None:
            ax.axvline(report[name]["f"], color="black", linestyle=style, label=f"{name} F {report[name]['f']:.3f}")
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 (strict: exact span and type)")
    ax.set_title("F1 per type (support)")
    if labels:
        ax.legend(loc="lower right")
    return _save(fig, path)


def plot_error_kinds(report: Dict[str, Any], path: Path) -> Path:
    """Stacked bars per type: FP kinds (left panel), FN kinds (right panel)."""
    errors = report["errors"]
    labels = sorted(errors)
    fig = Figure(figsize=(11, 0.45 * len(labels) + 1.8))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, side, kinds in ((axes[0], "fp", FP_KINDS), (axes[1], "fn", FN_KINDS)):
        left = [0] * len(labels)
        for kind in kinds:
            values = [errors[label][side][kind] for label in labels]
            ax.barh(labels, values, left=left, color=KIND_COLORS[kind], label=kind)
            left = [a + b for a, b in zip(left, values)]
        ax.set_title(f"false {'positives' if side == 'fp' else 'negatives'} by kind")
        ax.set_xlabel("count")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize="small")
    return _save(fig, path)


def plot_learning_curve(rows: List[Dict[str, Any]], path: Path) -> Path:
    """Scores (0..1) and losses against the training step."""
    steps = [row["step"] for row in rows]
    fig = Figure(figsize=(8, 7))
    ax_score, ax_loss = fig.subplots(2, 1, sharex=True)
    ax_score.plot(steps, [row["score"] for row in rows], color="black", linewidth=2, label="SCORE")
    names = sorted({name for row in rows for name in row["scores"] if name != "speed"})
    for name in names:
        ax_score.plot(steps, [row["scores"].get(name) for row in rows], label=name)
    ax_score.set_ylabel("dev score")
    ax_score.set_ylim(0, 1)
    ax_score.legend(loc="lower right", fontsize="small")
    ax_score.set_title("Learning curve")
    for pipe in sorted({pipe for row in rows for pipe in row["losses"]}):
        ax_loss.plot(steps, [row["losses"].get(pipe) for row in rows], label=f"loss {pipe}")
    ax_loss.set_ylabel("loss since last evaluation")
    ax_loss.set_xlabel("step")
    ax_loss.legend(loc="upper right", fontsize="small")
    return _save(fig, path)


def plot_threshold_curve(confidence: Dict[str, Any], path: Path) -> Path:
    """Precision, recall and F of the entities scoring >= t, against t."""
    rows = confidence["threshold_curve"]
    ts = [row["threshold"] for row in rows]
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for key, name in (("p", "precision"), ("r", "recall"), ("f", "F")):
        ax.plot(ts, [_nan(row[key]) for row in rows], marker=".", label=name)
    target = confidence["target"]
    if target["threshold"] is not None:
        ax.axvline(target["threshold"], color="grey", linestyle="--",
                   label=f"P >= {target['target_precision']:.2f} at t = {target['threshold']:.3f} (R {target['r']:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("threshold on the entity score")
    ax.set_title("Precision / recall against the threshold (strict matching)")
    ax.legend(loc="lower left", fontsize="small")
    return _save(fig, path)


def plot_reliability(confidence: Dict[str, Any], path: Path, title: str = "Reliability of entity scores (ECE per type)") -> Path:
    """Reliability diagram: accuracy per score bin against the diagonal, with
    the bin counts below; one line per type, the overall bars."""
    calib = confidence["calibration"]
    overall = calib["overall"]
    fig = Figure(figsize=(7, 7))
    ax, ax_n = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    width = 1.0 / calib["n_bins"]
    bins = overall["bins"]
    ax.bar([b["lo"] for b in bins], [b["accuracy"] or 0 for b in bins], width=width, align="edge",
           color="#4c72b0", alpha=0.6, edgecolor="black", label=f"overall (ECE {_nan(overall['ece']):.3f})")
    for label, row in calib["per_type"].items():
        points = [(b["confidence"], b["accuracy"]) for b in row["bins"] if b["n"]]
        if points:
            ax.plot(*zip(*points), marker=".", linewidth=0.8, label=f"{label} ({_nan(row['ece']):.3f})")
    ax.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction exactly right")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="x-small", ncol=2)
    ax_n.bar([b["lo"] for b in bins], [b["n"] for b in bins], width=width, align="edge", color="grey")
    if any(b["n"] for b in bins):  # log scale needs a positive count
        ax_n.set_yscale("log")
    ax_n.set_xlim(0, 1)
    ax_n.set_xlabel("entity score")
    ax_n.set_ylabel("entities")
    return _save(fig, path)


def plot_type_confusion(report: Dict[str, Any], path: Path) -> Path:
    """Gold type (rows) x predicted type (columns) of same-span type errors."""
    confusion = report["type_confusion"]
    labels = sorted(set(report["per_type"]) | set(confusion["labels"]))
    counts = confusion["counts"]
    matrix = [[counts.get(g, {}).get(p, 0) for p in labels] for g in labels]
    size = 0.5 * len(labels) + 2.5
    fig = Figure(figsize=(size + 1, size))
    ax = fig.subplots()
    if not labels:
        # No entity in the gold data or the predictions (an unlabelled corpus):
        # imshow cannot draw an empty matrix; say so in the chart instead.
        ax.text(0.5, 0.5, "no entities, gold or predicted", ha="center", va="center")
        ax.set_axis_off()
        return _save(fig, path)
    image = ax.imshow(matrix, cmap="Blues")
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize="small")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted type")
    ax.set_ylabel("gold type")
    ax.set_title(f"Same-span type errors ({confusion['total']})")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return _save(fig, path)


def _nan(value):
    return float("nan") if value is None else value


def _save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
