"""What `predict --uncertainty-first` / `--top` pay for their order: the
whole pipeline's throughput with entity scores on (what any labelling
output computes) and crf_ner's `expected_errors` off and on (a
forward-backward for every doc), batched and one text at a time (process
CPU time, passes interleaved, median of the repeats; bench/confidence.py).

    python scripts/expected_errors_cost.py MODEL DATA.spacy --output FILE.json [--n-docs N] [--repeats R]
"""
import json
import os
from pathlib import Path

import spacy
import torch
import typer
from spacy.tokens import DocBin

from bench.confidence import measure_pipeline
from bench.record import commit, cpu_model
from spacy_cluener.cli import run_script


def main(
    model: str = typer.Argument(..., help="a pipeline with crf_ner"),
    data: Path = typer.Argument(..., exists=True, help="a .spacy corpus (its texts are used)"),
    output: Path = typer.Option(..., "--output"),
    n_docs: int = typer.Option(0, "--n-docs", help="first N docs (0: all)"),
    repeats: int = typer.Option(5, "--repeats"),
    batch_size: int = typer.Option(256, "--batch-size"),
) -> None:
    torch.set_num_threads(1)
    nlp = spacy.load(model)
    nlp.get_pipe("crf_ner").with_scores = True
    texts = [doc.text for doc in DocBin().from_disk(data).get_docs(nlp.vocab)]
    texts = texts[:n_docs] if n_docs else texts
    result = {"pipeline": measure_pipeline(nlp, texts, batch_size, repeats, setting="expected_errors")}
    result["run"] = {"cpu": cpu_model(), "threads": 1, "commit": commit(), "model": model, "data": str(data),
                     "n_docs": len(texts), "loadavg": list(os.getloadavg()),
                     "command": [f"python scripts/expected_errors_cost.py MODEL DATA --output OUTPUT.json "
                                 f"--n-docs {n_docs} --repeats {repeats} --batch-size {batch_size}"]}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    pipe = result["pipeline"]
    print(f"expected_errors cost of the whole pipeline (scores on in both): {pipe['batched']['cost']:.3f} batched, "
          f"{pipe['one_at_a_time']['cost']:.3f} one text at a time; wrote {output}")


if __name__ == "__main__":
    run_script(main)
