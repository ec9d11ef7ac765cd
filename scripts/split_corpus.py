"""Split a DocBin into train and dev parts (MSRA ships no dev set).

    python scripts/split_corpus.py IN.spacy TRAIN_OUT.spacy DEV_OUT.spacy [--dev-fraction 0.1] [--seed 0]

Checkpoints must be chosen on a dev split, never on the test set.
"""
from pathlib import Path

import spacy
import typer
from spacy.tokens import DocBin

from spacy_cluener.cli import refuse_same_file, run_script
from spacy_cluener.converters import DOCBIN_ATTRS, write_docbin
from spacy_cluener.converters.split import split_docs


def main(
    input_path: Path = typer.Argument(..., exists=True),
    train_path: Path = typer.Argument(...),
    dev_path: Path = typer.Argument(...),
    dev_fraction: float = typer.Option(0.1, "--dev-fraction", min=0.0, max=1.0),
    seed: int = typer.Option(0, "--seed"),
):
    for path in (train_path, dev_path):
        refuse_same_file(input_path, path)  # the input would be overwritten by a part of itself
    if train_path.resolve() == dev_path.resolve():
        typer.echo(f"TRAIN_OUT and DEV_OUT are the same file {train_path}: give two paths.", err=True)
        raise typer.Exit(code=1)
    docs = list(DocBin().from_disk(input_path).get_docs(spacy.blank("zh").vocab))
    train, dev = split_docs(docs, dev_fraction, seed)
    for path, part in ((train_path, train), (dev_path, dev)):
        write_docbin(DocBin(attrs=DOCBIN_ATTRS, docs=part), path)
    print(f"{input_path}: {len(docs)} docs -> {len(train)} train ({train_path}), {len(dev)} dev ({dev_path})")


if __name__ == "__main__":
    run_script(main)
