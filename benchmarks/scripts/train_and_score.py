"""Train one config with the main project's scripts/train.py, score it with
`spacy evaluate`, and record the result (scripts/record_result.py's format).
Run from the repository root's point of view: every path below is relative
to it, and so are the commands recorded, so they can be pasted there.

    python scripts/train_and_score.py CONFIG OUTPUT.json [--seed S] [--max-steps N] [--threads T]
        [--train corpus/cluener-train.spacy] [--dev corpus/cluener-dev.spacy] [--test TEST.spacy] [--name NAME]

`seeds` runs it for seeds 0, 1 and 2 of configs/cnn_crf.cfg, exactly as the
headline results were made; `ablation` for each benchmarks/configs/ablation/*.cfg.
The checkpoint is chosen on `--dev`; `--test` (default: the dev corpus, as
CLUENER's test set has no labels) is the corpus scored, e.g. MSRA test after
choosing on a seeded tenth of MSRA train.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List

import typer

from bench.record import REPO, record
from spacy_cluener.cli import run_script


def run(command: List[str]) -> None:
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, cwd=REPO, check=True)


def main(
    config: Path = typer.Argument(..., help="config, relative to the repository root"),
    output: Path = typer.Argument(..., help="result JSON (relative to the current directory)"),
    seed: int = typer.Option(0, "--seed"),
    max_steps: int = typer.Option(3200, "--max-steps"),
    threads: int = typer.Option(1, "--threads"),
    train: str = typer.Option("corpus/cluener-train.spacy", "--train"),
    dev: str = typer.Option("corpus/cluener-dev.spacy", "--dev"),
    test: str = typer.Option("", "--test", help="corpus to score (default: --dev)"),
    name: str = typer.Option("", "--name", help="training/NAME (default: seedS, or the config's name)"),
    data: str = typer.Option("cluener-dev", "--data"),
) -> None:
    output = output.resolve()
    name = name or (f"seed{seed}" if config.stem == "cnn_crf" else f"{config.stem}-seed{seed}")
    train_cmd = ["python", "scripts/train.py", str(config), f"training/{name}", "--threads", str(threads),
                 "--training.max_steps", str(max_steps), "--paths.train", train, "--paths.dev", dev,
                 "--system.seed", str(seed)]
    with tempfile.TemporaryDirectory() as tmp:
        metrics = Path(tmp) / "metrics.json"
        eval_cmd = ["python", "-m", "spacy", "evaluate", f"training/{name}/model-best", test or dev, "--output"]
        run([sys.executable, *train_cmd[1:]])
        run([sys.executable, *eval_cmd[1:], str(metrics)])
        scores = json.loads(metrics.read_text(encoding="utf8"))
    commands = [" ".join(train_cmd), " ".join(eval_cmd + ["METRICS.json"])]
    record(scores, output, commands, threads, {"config": config.stem, "data": data, "seed": seed})
    print(f"Wrote {output}")


if __name__ == "__main__":
    run_script(main)
