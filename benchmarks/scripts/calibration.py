"""`calibrate` on a trained pipeline and a gold dev corpus: the held-out
half's ECE (overall, per type, with noise floors) and the recall at
precision >= 0.90, before and after (spacy_cluener.training.calibration).
The calibrated copy goes to a temporary directory and is removed.

    python scripts/calibration.py MODEL DEV.spacy --output FILE.json [--seed S]
"""
import os
import sys
import tempfile
from pathlib import Path

import torch
import typer

from bench.record import record
from spacy_cluener.cli import run_script
from spacy_cluener.training.calibration import calibrate, summary


def main(
    model: str = typer.Argument(..., help="a trained pipeline with crf_ner"),
    data: Path = typer.Argument(..., exists=True, help="gold .spacy corpus the model was not trained on"),
    output: Path = typer.Option(..., "--output"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        result = calibrate(model, data, Path(tmp) / "calibrated", seed=seed)
    for line in summary(result):
        print(line)
    result.pop("output")
    record(result, output, ["python", "scripts/calibration.py", *sys.argv[1:]], threads=1,
           extra={"loadavg": list(os.getloadavg())})
    print(f"wrote {output}")


if __name__ == "__main__":
    run_script(main)
