"""A randomly initialised BERT with chinese-bert-wwm-ext's vocabulary, saved
as a local model directory (config, weights, tokenizer), for the benchmarks
that cannot download one: the small BERT that `trf-small` trains from
scratch, or a BERT-base-sized one for timings.

    python scripts/make_bert.py OUTPUT_DIR [--layers 4] [--hidden 256] [--seed 0]
"""
from pathlib import Path

import typer

from bench.int8 import make_bert
from spacy_cluener.cli import run_script


def main(
    output: Path = typer.Argument(..., help="directory to write"),
    layers: int = typer.Option(4, "--layers"),
    hidden: int = typer.Option(256, "--hidden", help="hidden size; heads = hidden / 64, feed-forward = 4 x hidden"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    make_bert(output, layers, hidden, max(1, hidden // 64), 4 * hidden, seed=seed)
    print(f"wrote {output}: {layers} layers, hidden {hidden}, random weights")


if __name__ == "__main__":
    run_script(main)
