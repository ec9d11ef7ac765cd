"""Add how a score was made to spaCy evaluate's JSON: the CPU model, thread
count, commit and commands (one result file per run, for collate_results.py).

    python scripts/record_result.py METRICS.json OUTPUT.json --threads 1 --seed 0 \
        --command "python scripts/train.py ..." --command "python -m spacy evaluate ..." [--commit 83baa19]

For runs made elsewhere (e.g. the three seeds run by hand): `--commit` and
`--cpu` name where they ran; by default this machine's `lscpu` and checkout.
"""
import json
from pathlib import Path
from typing import List, Optional

import typer

from bench.record import record
from spacy_cluener.cli import run_script


def main(
    metrics: Path = typer.Argument(..., exists=True, dir_okay=False, help="spacy evaluate --output JSON"),
    output: Path = typer.Argument(..., dir_okay=False, help="result JSON to write"),
    command: List[str] = typer.Option(..., "--command", help="each command of the run, in order"),
    threads: int = typer.Option(..., "--threads", help="torch threads used in training"),
    seed: Optional[int] = typer.Option(None, "--seed"),
    config: str = typer.Option("cnn_crf", "--config"),
    data: str = typer.Option("cluener-dev", "--data"),
    commit_id: Optional[str] = typer.Option(None, "--commit", help="default: this checkout's"),
    cpu: Optional[str] = typer.Option(None, "--cpu", help="default: lscpu's Model name"),
) -> None:
    extra = {"config": config, "data": data} | ({"seed": seed} if seed is not None else {})
    record(json.loads(metrics.read_text(encoding="utf8")), output, command, threads, extra, commit_id, cpu)
    typer.echo(f"Wrote {output}")


if __name__ == "__main__":
    run_script(main)
