"""Hashes of a pipeline's predicted entities on MSRA test and CLUENER dev, to
compare across commits (the same hash: the same entities in every doc):
results/prediction_identity_head.json.

    python scripts/prediction_identity.py MODEL MSRA_TEST.txt CLUENER_DEV.json OUTPUT.json [--numpy-blas]

Run it at two commits on the same model (e.g. with PYTHONPATH pointing at a
checkout of the older commit) and compare the `sha256` fields; `entities`
counts them. Batched and one-at-a-time predictions are hashed apart (they go
through different decoding paths).
"""
import hashlib
import json
import sys
from pathlib import Path

import spacy
import torch
import typer
from speed import NUMPY_BLAS

from bench.record import commit, cpu_model
from bench.speed import prediction_hash, read_msra_texts
from spacy_cluener.cli import run_script


def one_at_a_time_hash(nlp, texts):
    digest, n = hashlib.sha256(), 0
    for text in texts:
        ents = [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents]
        n += len(ents)
        digest.update(json.dumps(ents).encode("utf8"))
    return digest.hexdigest(), n


def main(
    model: Path = typer.Argument(..., exists=True),
    msra_test: Path = typer.Argument(..., exists=True),
    cluener_dev: Path = typer.Argument(..., exists=True, help="CLUENER dev.json"),
    output: Path = typer.Argument(...),
    numpy_blas: bool = typer.Option(False, "--numpy-blas"),
) -> None:
    torch.set_num_threads(1)
    nlp = spacy.load(model, config=NUMPY_BLAS if numpy_blas else {})
    data = {
        "msra_test": read_msra_texts(msra_test),
        "cluener_dev": [json.loads(line)["text"] for line in cluener_dev.read_text(encoding="utf8").splitlines()
                        if line.strip()],
    }
    result = {"model": str(model), "numpy_blas": numpy_blas}
    for name, texts in data.items():
        batched, n = prediction_hash(nlp, texts)
        single, n_single = one_at_a_time_hash(nlp, texts)
        result[name] = {"docs": len(texts), "batched": {"sha256": batched, "entities": n},
                        "one_at_a_time": {"sha256": single, "entities": n_single}}
    import spacy_cluener

    result["run"] = {"cpu": cpu_model(), "commit": commit(), "package": str(Path(spacy_cluener.__file__).parent),
                     "command": ["python", *sys.argv]}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(json.dumps({k: v for k, v in result.items() if k in data}, indent=1))


if __name__ == "__main__":
    run_script(main)
