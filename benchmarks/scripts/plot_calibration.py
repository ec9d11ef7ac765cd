"""The calibration figures of docs/results.md, from `calibration`'s JSON: the
reliability diagram of the held-out half before and after `calibrate`, and
the threshold curve after (the charts `report` draws, spacy_cluener's
evaluation/charts.py).

    python scripts/plot_calibration.py results/calibration.json OUTPUT_DIR

Writes OUTPUT_DIR/reliability_before.png, reliability_after.png and
threshold_curve.png.
"""
import json
from pathlib import Path
from typing import Any, Dict

import typer

from spacy_cluener.cli import run_script
from spacy_cluener.evaluation import charts
from spacy_cluener.evaluation.confidence import N_BINS


def as_confidence(half: Dict[str, Any]) -> Dict[str, Any]:
    """One held-out measurement in the shape of the report's `confidence`."""
    missing = [k for k in ("threshold_curve", "bins") if k not in half]
    missing += [f"per_type.{label}.bins" for label, row in half["per_type"].items() if "bins" not in row]
    if missing:
        raise SystemExit(f"plot_calibration: the JSON lacks {', '.join(missing)}: rerun `calibration`")
    return {
        "threshold_curve": half["threshold_curve"],
        "target": half["target"],
        "calibration": {
            "n_bins": N_BINS,
            "overall": {"ece": half["ece"], "bins": half["bins"]},
            "per_type": half["per_type"],
        },
    }


def main(
    result: Path = typer.Argument(..., exists=True, dir_okay=False, help="results/calibration.json"),
    output_dir: Path = typer.Argument(..., help="directory for the PNGs"),
) -> None:
    data = json.loads(result.read_text(encoding="utf8"))
    before, after = as_confidence(data["heldout_before"]), as_confidence(data["heldout_after"])
    output_dir.mkdir(parents=True, exist_ok=True)
    for path in (
        charts.plot_reliability(before, output_dir / "reliability_before.png",
                                title="Held-out half of CLUENER dev, before calibrate (ECE per type)"),
        charts.plot_reliability(after, output_dir / "reliability_after.png",
                                title="Held-out half of CLUENER dev, after calibrate (ECE per type)"),
        charts.plot_threshold_curve(after, output_dir / "threshold_curve.png"),
    ):
        print(f"wrote {path}")


if __name__ == "__main__":
    run_script(main)
