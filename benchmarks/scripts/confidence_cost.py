"""The cost of crf_ner's entity confidence on a trained pipeline: the extra
predict time of `scores = true` over the predict time without, and the whole
pipeline's throughput with and without, batched and one text at a time
(process CPU time, median of the repeats; bench/confidence.py). With
`--setting expected_errors`, what the order of `predict --uncertainty-first`
/ `--top` costs: the whole pipeline with scores on, `expected_errors` off
and on.

    python scripts/confidence_cost.py MODEL DATA.spacy --output FILE.json [--n-docs N] [--repeats R]
        [--setting scores|expected_errors]
"""
import json
import os
from pathlib import Path

import spacy
import torch
import typer
from spacy.tokens import DocBin

from bench.confidence import measure, measure_pipeline
from bench.record import commit, cpu_model
from spacy_cluener.cli import run_script


def main(
    model: str = typer.Argument(..., help="a pipeline with crf_ner"),
    data: Path = typer.Argument(..., exists=True, help="a .spacy corpus (its texts are used)"),
    output: Path = typer.Option(..., "--output"),
    n_docs: int = typer.Option(0, "--n-docs", help="first N docs (0: all)"),
    repeats: int = typer.Option(5, "--repeats"),
    batch_size: int = typer.Option(256, "--batch-size"),
    setting: str = typer.Option("scores", "--setting", help="scores, or expected_errors (with scores on)"),
) -> None:
    if setting not in ("scores", "expected_errors"):
        raise typer.BadParameter(f"--setting must be scores or expected_errors, not '{setting}'")
    torch.set_num_threads(1)
    nlp = spacy.load(model)
    texts = [doc.text for doc in DocBin().from_disk(data).get_docs(nlp.vocab)]
    texts = texts[:n_docs] if n_docs else texts
    if setting == "scores":
        result = measure(nlp, texts, batch_size, repeats)
        result["pipeline"] = measure_pipeline(nlp, texts, batch_size, repeats)
    else:
        nlp.get_pipe("crf_ner").with_scores = True
        result = {"pipeline": measure_pipeline(nlp, texts, batch_size, repeats, setting="expected_errors")}
    result["run"] = {"cpu": cpu_model(), "threads": 1, "commit": commit(), "model": model, "data": str(data),
                     "n_docs": len(texts), "setting": setting, "loadavg": list(os.getloadavg())}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    pipe = result["pipeline"]
    share = f"confidence cost share {result['confidence_cost_share']:.3f} of crf_ner's predict; " if setting == "scores" else ""
    print(f"{share}{setting} cost of the whole pipeline {pipe['batched']['cost']:.3f} batched, "
          f"{pipe['one_at_a_time']['cost']:.3f} one text at a time; wrote {output}")


if __name__ == "__main__":
    run_script(main)
