"""The tok2vec's ONNX graph, one text at a time and batched (issue 27):
`spacy_cluener.ChunkedTok2Vec.v3`'s `onnx` setting ("off", "fp32", "int8")
on a trained CNN pipeline, which runs every batch through one onnxruntime
graph built from the weights (layers/onnx_tok2vec.py).

    python scripts/onnx_tok2vec.py MODEL MSRA_TEST.txt --output results/onnx_tok2vec.json [--n-docs 0] [--dev DEV.spacy]

For each setting, the pipeline loaded with it (and numpy_blas, unless
--no-numpy-blas), the first N MSRA test sentences, one thread, CPU time:
the tok2vec alone per doc (`model.predict([doc])`: the features, which stay
numpy, and the graph or thinc's layers); the largest difference of its
vectors from thinc's; the whole pipeline one text at a time (`nlp(text)`)
and batched (`nlp.pipe`, batches of 256): chars/s, the docs whose entities
are the thinc pipeline's in the same mode, and the docs whose entities are
the same in both modes (a doc's entities should not depend on its batch);
with --dev, the entity P/R/F on that corpus in both modes. Needs
`pip install spacy-cluener[onnx]`.
"""
import json
import os
import sys
import time
from pathlib import Path

import numpy
import spacy
import torch
import typer
from spacy.tokens import DocBin
from spacy.training import Example

from bench.record import commit, cpu_model
from bench.speed import read_msra_texts
from spacy_cluener.cli import run_script

SETTINGS = ("off", "fp32", "int8")
ARCHITECTURE = "spacy_cluener.ChunkedTok2Vec.v3"
BATCH = 256


def spans(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def same(a, b) -> float:
    """The share of docs with the same entities in `a` and `b`."""
    return round(sum(x == y for x, y in zip(a, b)) / len(a), 5)


def main(
    model: Path = typer.Argument(..., exists=True),
    msra_test: Path = typer.Argument(..., exists=True),
    output: Path = typer.Option(..., "--output"),
    n_docs: int = typer.Option(0, "--n-docs", help="first N sentences (0: all)"),
    numpy_blas: bool = typer.Option(True, "--numpy-blas/--no-numpy-blas", help="the pipeline with numpy_blas.v1"),
    dev: Path = typer.Option(None, "--dev", exists=True, help="also score each setting on this corpus (DocBin)"),
) -> None:
    import onnxruntime
    from speed import NUMPY_BLAS

    torch.set_num_threads(1)
    texts = [t for t in read_msra_texts(msra_test, n_docs) if t]
    chars = sum(map(len, texts))
    result = {"model": str(model), "architecture": ARCHITECTURE, "numpy_blas": numpy_blas, "n_docs": len(texts),
              "chars": chars, "tok2vec_us_per_doc": {}, "max_abs_diff": {}, "pipeline": {}}
    reference, entities, entities_batched = None, {}, {}
    for setting in SETTINGS:
        config = {**(NUMPY_BLAS if numpy_blas else {}),
                  "components.tok2vec.model.@architectures": ARCHITECTURE,
                  "components.tok2vec.model.onnx": setting}
        nlp = spacy.load(model, config=config)
        nlp.get_pipe("crf_ner").with_scores = False
        tok2vec = nlp.get_pipe("tok2vec").model
        docs = [nlp.make_doc(t) for t in texts]
        vectors = [tok2vec.predict([d])[0] for d in docs[:200]]  # builds the graph (untimed)
        if reference is None:
            reference = vectors
        else:
            result["max_abs_diff"][setting] = float(max(numpy.abs(a - b).max() for a, b in zip(vectors, reference)))
        start = time.process_time()
        for doc in docs:
            tok2vec.predict([doc])
        result["tok2vec_us_per_doc"][setting] = round((time.process_time() - start) / len(docs) * 1e6, 1)
        [nlp(t) for t in texts[:100]]
        start = time.process_time()
        predicted = [spans(nlp(t)) for t in texts]
        seconds = time.process_time() - start
        list(nlp.pipe(texts[:BATCH], batch_size=BATCH))
        start = time.process_time()
        batched = [spans(doc) for doc in nlp.pipe(texts, batch_size=BATCH)]
        batched_seconds = time.process_time() - start
        entities[setting] = predicted
        entities_batched[setting] = batched
        row = {"chars_per_cpu_s": round(chars / seconds), "us_per_doc": round(seconds / len(texts) * 1e6),
               "identical_docs": same(predicted, entities["off"]),
               "batched": {"chars_per_cpu_s": round(chars / batched_seconds), "batch_size": BATCH,
                           "identical_docs": same(batched, entities_batched["off"])},
               "same_in_both_modes": same(predicted, batched)}
        if dev is not None:
            gold = list(DocBin().from_disk(dev).get_docs(nlp.vocab))
            scores = nlp.evaluate([Example(nlp.make_doc(doc.text), doc) for doc in gold], batch_size=BATCH)
            row["dev"] = {"corpus": str(dev), "ents_f": scores["ents_f"], "ents_p": scores["ents_p"],
                          "ents_r": scores["ents_r"]}
            # one doc at a time too: what a service sees
            one = [Example(nlp(doc.text), doc) for doc in gold]
            row["dev_one_at_a_time"] = {"ents_f": nlp.get_pipe("crf_ner").score(one)["ents_f"]}
        result["pipeline"][setting] = row
    result["run"] = {"cpu": cpu_model(), "threads": 1, "commit": commit(), "command": ["python", *sys.argv],
                     "onnxruntime": onnxruntime.__version__, "loadavg": [round(x, 2) for x in os.getloadavg()]}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    for setting, row in result["pipeline"].items():
        print(f"onnx = {setting}: {row['chars_per_cpu_s']:,} chars per CPU s one text at a time, "
              f"{row['batched']['chars_per_cpu_s']:,} batched; identical docs {row['identical_docs']:.4f} / "
              f"{row['batched']['identical_docs']:.4f}; same in both modes {row['same_in_both_modes']:.4f}",
              file=sys.stderr)


if __name__ == "__main__":
    run_script(main)
