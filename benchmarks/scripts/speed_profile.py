"""Where prediction time goes, per stage (exclusive process CPU time), for
both modes: batched (`nlp.pipe`, batch 256) and one text at a time
(`nlp(text)`), on MSRA test: results/speed_profile.json.

    python scripts/speed_profile.py MODEL MSRA_TEST.txt --output results/speed_profile.json [--n-docs N]

Stages (bench/speed.py): tokenizer + Doc, the chunked tok2vec wrapper,
character/bigram features, hash embeddings, lexicon matching and sums, the
embedding Maxout, the CNN, the emission layer, Viterbi, marginals (with
`--scores`, which adds both modes with scores on), crf_ner's own work around them, set_annotations (doc.ents and
the SpanGroup), and the rest (spaCy's Language and thinc's glue). Each in
seconds, share, ns per character and us per doc.
"""
import json
import os
import sys
from pathlib import Path

import spacy
import torch
import typer
from speed import NUMPY_BLAS

from bench.record import commit, cpu_model
from bench.speed import MODES, flops_per_char, profile, read_msra_texts
from spacy_cluener.cli import run_script


def main(
    model: Path = typer.Argument(..., exists=True),
    msra_test: Path = typer.Argument(..., exists=True),
    output: Path = typer.Option(..., "--output"),
    n_docs: int = typer.Option(0, "--n-docs", help="first N sentences (0: all)"),
    scores: bool = typer.Option(False, "--scores", help="also profile both modes with entity scores on "
                                "(the first two runs have them off)"),
    numpy_blas: bool = typer.Option(False, "--numpy-blas", help="with spacy_cluener.numpy_blas.v1"),
) -> None:
    torch.set_num_threads(1)
    nlp = spacy.load(model, config=NUMPY_BLAS if numpy_blas else {})
    texts = read_msra_texts(msra_test, n_docs)
    loadavg = os.getloadavg()
    crf_ner = nlp.get_pipe("crf_ner")
    crf_ner.with_scores = False  # scores off in both modes, whatever the pipeline saved; on in the third run
    runs = {}
    for mode in MODES:
        profile(nlp, texts[:256], mode)  # warm-up
        runs[mode] = profile(nlp, texts, mode)
    if scores:
        crf_ner.with_scores = True
        for mode in MODES:
            runs[f"{mode}_with_scores"] = profile(nlp, texts, mode)
    result = {"model": str(model), "numpy_blas": numpy_blas, "n_docs": len(texts), "chars": sum(map(len, texts)),
              "flops_per_char": flops_per_char(nlp), "profiles": runs,
              "run": {"cpu": cpu_model(), "threads": 1, "commit": commit(), "command": ["python", *sys.argv],
                      "loadavg_start": [round(x, 2) for x in loadavg],
                      "loadavg_end": [round(x, 2) for x in os.getloadavg()]}}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    for mode, run in runs.items():
        print(f"{mode}: {run['chars_per_s']:,} chars per CPU s", file=sys.stderr)


if __name__ == "__main__":
    run_script(main)
