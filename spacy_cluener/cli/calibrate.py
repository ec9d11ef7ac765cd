"""`calibrate`: fit crf_ner's entity scores on half of a gold corpus, save a calibrated copy."""
import json
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..training.calibration import calibrate, summary
from ..util import atomic_open
from ._app import Arg, Opt, app


class Maps(str, Enum):
    platt = "platt"
    isotonic = "isotonic"
    auto = "auto"


@app.command("calibrate")
def calibrate_cli(
    model: str = Arg(..., help="Trained pipeline (name or path); never written"),
    data_path: Path = Arg(..., help="Gold .spacy file the model was not trained on (e.g. dev)", exists=True, dir_okay=False),
    output: Path = Arg(..., help="Directory for the calibrated copy of MODEL"),
    seed: int = Opt(0, "--seed", help="Seed of the split of DATA into a fit half and a held-out half"),
    component: Optional[str] = Opt(None, "--component", "-c", help="crf_ner component to calibrate (default: the first)"),
    maps: Maps = Opt(Maps.platt, "--maps", help="Per-type maps to try: platt, isotonic, or auto (both, the better kept)"),
    min_entities: int = Opt(40, "--min-entities", min=2, help="Fit a per-type map only for types with this many entities in the fit half"),
    target_precision: float = Opt(0.9, "--target-precision", min=0.0, max=1.0, help="Report the recall at this precision"),
    batch_size: int = Opt(256, "--batch-size", "-b", min=1, help="Docs per nlp.pipe batch"),
    metrics: Optional[Path] = Opt(None, "--metrics", help="Also write the figures as JSON here"),
):
    """Calibrate crf_ner's entity scores, as spaCy's find-threshold tunes a
    threshold: on a seeded half of DATA, a temperature for the CRF marginals
    and, per type where it pays (cross-validated on that half), a monotone map
    (Platt by default; --maps isotonic or auto). Both are stored in the component's cfg of OUTPUT, a
    copy of MODEL written atomically, and applied whenever scores are on. The
    ECE and the recall at --target-precision are printed for the OTHER half,
    before and after; the held-out doc indices are recorded in OUTPUT, so
    `report` on DATA measures the calibration on them only.
    """
    result = calibrate(
        model, data_path, output, seed=seed, name=component, min_entities=min_entities,
        target_precision=target_precision, batch_size=batch_size, maps=maps.value,
    )
    for line in summary(result):
        typer.echo(line)
    if metrics is not None:
        with atomic_open(metrics) as out:
            out.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    typer.echo(f"Wrote the calibrated pipeline to {output}")
