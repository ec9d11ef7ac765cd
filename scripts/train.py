"""Run `spacy train` with a wall-clock budget and, for transformer configs, a BERT path.

    python scripts/train.py CONFIG OUTPUT_DIR [--max-seconds N] [--gpu-id G] [--bert NAME_OR_DIR] [--section.key value ...]

Extra `--section.key value` options are spaCy config overrides, as for `spacy train`.
"""
import sys
import time
from pathlib import Path

import typer
from spacy.cli._util import parse_config_overrides
from spacy.cli.train import train
from thinc.api import Config

from spacy_cluener.callbacks import TrainingBudgetExceeded


def main(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., exists=True, dir_okay=False),
    output_path: Path = typer.Argument(...),
    max_seconds: float = typer.Option(0, "--max-seconds", help="Wall-clock budget; 0 = none"),
    gpu_id: int = typer.Option(-1, "--gpu-id"),
    bert: str = typer.Option("", "--bert", help="BERT hub name or local dir (transformer configs)"),
):
    overrides = parse_config_overrides(ctx.args)
    if max_seconds:
        overrides["training.before_update"] = {
            "@callbacks": "spacy_cluener.time_budget.v1",
            "max_seconds": max_seconds,
        }
    config = Config().from_disk(config_path, interpolate=False)
    if config["training"]["logger"].get("@loggers") == "spacy.ConsoleLogger.v3":
        output_path.mkdir(parents=True, exist_ok=True)
        log_file = output_path / "training_log.jsonl"
        log_file.unlink(missing_ok=True)
        overrides.setdefault("training.logger.output_file", str(log_file))
    if bert and "transformer" in config["components"]:
        overrides["components.transformer.model.name"] = bert
    start = time.monotonic()
    try:
        train(config_path, output_path, use_gpu=gpu_id, overrides=overrides)
    except TrainingBudgetExceeded as stop:
        print(f"Stopped: {stop}. model-best and model-last are in {output_path}")
    print(f"Training wall-clock time: {time.monotonic() - start:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    app = typer.Typer(add_completion=False)
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(main)
    app()
