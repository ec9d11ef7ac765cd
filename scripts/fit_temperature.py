"""Fit crf_ner's score temperature on held-out TRAINING docs and save the model.

    python scripts/fit_temperature.py MODEL HELDOUT.spacy OUTPUT_DIR [--n-docs N]

HELDOUT must be docs the model was not trained on, and not the dev or test
set it is evaluated on: e.g. the 10 % that scripts/split_corpus.py held out
of train when the model was trained on the other 90 %.
"""
import json
from pathlib import Path

import spacy
import typer
from spacy.tokens import DocBin

from spacy_cluener.cli import run_script
from spacy_cluener.training.temperature import fit_temperature


def main(
    model: str = typer.Argument(..., help="Trained pipeline"),
    heldout: Path = typer.Argument(..., help="Held-out training docs (.spacy), never dev/test", exists=True),
    output: Path = typer.Argument(..., help="Where to save the pipeline with its temperature"),
    n_docs: int = typer.Option(0, "--n-docs", help="Use the first N docs (0: all)"),
):
    nlp = spacy.load(model)
    docs = list(DocBin().from_disk(heldout).get_docs(nlp.vocab))
    if n_docs:
        docs = docs[:n_docs]
    result = fit_temperature(nlp, docs)
    nlp.to_disk(output)
    print(json.dumps({**result, "model": model, "heldout": str(heldout), "n_docs": len(docs)}, indent=2))


if __name__ == "__main__":
    run_script(main)
