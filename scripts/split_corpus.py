"""Split a DocBin into train and dev parts (MSRA ships no dev set).

    python scripts/split_corpus.py IN.spacy TRAIN_OUT.spacy DEV_OUT.spacy [--dev-fraction 0.1] [--seed 0]

Checkpoints must be chosen on a dev split, never on the test set.
"""
import random
from pathlib import Path

import spacy
import typer
from spacy.tokens import DocBin


def main(
    input_path: Path = typer.Argument(..., exists=True),
    train_path: Path = typer.Argument(...),
    dev_path: Path = typer.Argument(...),
    dev_fraction: float = typer.Option(0.1, "--dev-fraction", min=0.0, max=1.0),
    seed: int = typer.Option(0, "--seed"),
):
    docs = list(DocBin().from_disk(input_path).get_docs(spacy.blank("zh").vocab))
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    n_dev = round(len(docs) * dev_fraction)
    dev_ids = set(order[:n_dev])
    for path, keep in ((train_path, lambda i: i not in dev_ids), (dev_path, lambda i: i in dev_ids)):
        DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"], docs=[d for i, d in enumerate(docs) if keep(i)]).to_disk(path)
    print(f"{input_path}: {len(docs)} docs -> {len(docs) - n_dev} train ({train_path}), {n_dev} dev ({dev_path})")


if __name__ == "__main__":
    typer.run(main)
