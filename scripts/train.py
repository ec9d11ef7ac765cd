"""Run `spacy train` with a fixed thread count, an optional wall-clock budget,
a JSONL training log and, for transformer configs, a BERT path.

    python scripts/train.py CONFIG OUTPUT_DIR [--threads N] [--max-seconds N] [--gpu-id G] [--bert NAME_OR_DIR] [--section.key value ...]

Extra `--section.key value` options are spaCy config overrides, as for `spacy train`.
The project's default stops at `[training] max_steps`, so the same commit gives
the same scores on machines of the same CPU type with the same thread count,
however busy they are (another CPU type: within seed noise, docs/results.md);
`--max-seconds` is opt-in and makes the result depend on the machine's speed.
"""
import sys
import time
from pathlib import Path

import torch
import typer
from spacy.cli._util import parse_config_overrides
from spacy.cli.train import train
from thinc.api import Config

from spacy_cluener.cli import run_script
from spacy_cluener.training.callbacks import TrainingBudgetExceeded
from spacy_cluener.training.schedule import eval_frequency_for

LOG_NAME = "training_log.jsonl"


def with_training_log(logger: dict, log_file: Path) -> dict:
    """The configured logger chained with one that writes `log_file`, so the
    learning curve is kept whatever logger (or spacy-loggers chain: W&B,
    MLflow, ...) the config uses; each row is flushed when it is written, so
    a killed run keeps the curve up to its last evaluation."""
    return {
        "@loggers": "spacy.ChainLogger.v1",
        "logger1": logger,
        "logger2": {"@loggers": "spacy_cluener.JsonlLogger.v1", "output_file": str(log_file)},
    }


def main(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., exists=True, dir_okay=False),
    output_path: Path = typer.Argument(...),
    threads: int = typer.Option(1, "--threads", min=0, help="torch threads (0 = torch's default); results depend on it"),
    max_seconds: float = typer.Option(0, "--max-seconds", help="Wall-clock budget; 0 = none (stop at max_steps)"),
    gpu_id: int = typer.Option(-1, "--gpu-id"),
    bert: str = typer.Option("", "--bert", help="BERT hub name or local dir (transformer configs)"),
):
    if threads:
        torch.set_num_threads(threads)
    overrides = parse_config_overrides(ctx.args)
    if max_seconds:
        overrides["training.before_update"] = {
            "@callbacks": "spacy_cluener.time_budget.v1",
            "max_seconds": max_seconds,
        }
    config = Config().from_disk(config_path, interpolate=False)
    max_steps = int(overrides.get("training.max_steps", config["training"]["max_steps"]))
    every, message = eval_frequency_for(
        max_steps, int(overrides.get("training.eval_frequency", config["training"]["eval_frequency"])))
    if every is None:
        typer.echo(f"Error: {message}", err=True)
        raise typer.Exit(code=1)
    if message:
        typer.echo(f"Note: {message}", err=True)
        overrides["training.eval_frequency"] = every
    output_path.mkdir(parents=True, exist_ok=True)
    log_file = output_path / LOG_NAME
    log_file.unlink(missing_ok=True)
    logger = overrides.get("training.logger", config["training"]["logger"])
    overrides["training.logger"] = with_training_log(dict(logger), log_file)
    if bert and "transformer" in config["components"]:
        overrides["components.transformer.model.name"] = bert
    start = time.monotonic()
    try:
        train(config_path, output_path, use_gpu=gpu_id, overrides=overrides)
    except TrainingBudgetExceeded as stop:
        print(f"Stopped by the {stop}; model-best and model-last are in {output_path}")
    print(f"Training wall-clock time: {time.monotonic() - start:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    run_script(main, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
