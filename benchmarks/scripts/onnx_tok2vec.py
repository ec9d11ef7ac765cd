"""One text at a time with the tok2vec's ONNX graph (issue 27):
`spacy_cluener.ChunkedTok2Vec.v2`'s `onnx` setting ("off", "fp32", "int8")
on a trained CNN pipeline, which runs a one-doc batch through one
onnxruntime graph built from the weights (layers/onnx_tok2vec.py).

    python scripts/onnx_tok2vec.py MODEL MSRA_TEST.txt --output results/onnx_tok2vec.json [--n-docs 0] [--dev DEV.spacy]

For each setting, the pipeline loaded with it (and numpy_blas, unless
--no-numpy-blas), the first N MSRA test sentences one at a time, one thread,
CPU time: the tok2vec alone per doc (`model.predict([doc])`: the features,
which stay numpy, and the graph or thinc's layers); the largest difference
of its vectors from thinc's; the whole pipeline (`nlp(text)`): chars/s and
the docs whose entities are the thinc pipeline's; with --dev, the entity
P/R/F on that corpus (batched, hence thinc's path: the same for every
setting, which the F shows). Needs `pip install spacy-cluener[onnx]`.
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
    result = {"model": str(model), "numpy_blas": numpy_blas, "n_docs": len(texts), "chars": chars,
              "tok2vec_us_per_doc": {}, "max_abs_diff": {}, "pipeline": {}}
    reference, entities = None, {}
    for setting in SETTINGS:
        config = {**(NUMPY_BLAS if numpy_blas else {}),
                  "components.tok2vec.model.@architectures": "spacy_cluener.ChunkedTok2Vec.v2",
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
        predicted = [[(e.start_char, e.end_char, e.label_) for e in nlp(t).ents] for t in texts]
        seconds = time.process_time() - start
        entities[setting] = predicted
        row = {"chars_per_cpu_s": round(chars / seconds), "us_per_doc": round(seconds / len(texts) * 1e6),
               "identical_docs": round(sum(a == b for a, b in zip(predicted, entities["off"])) / len(texts), 5)}
        if dev is not None:
            gold = list(DocBin().from_disk(dev).get_docs(nlp.vocab))
            scores = nlp.evaluate([Example(nlp.make_doc(doc.text), doc) for doc in gold])
            row["dev"] = {"corpus": str(dev), "ents_f": scores["ents_f"], "ents_p": scores["ents_p"],
                          "ents_r": scores["ents_r"]}
            # one doc at a time too: what a service sees, through the graph
            one = [Example(nlp(doc.text), doc) for doc in gold]
            row["dev_one_at_a_time"] = {"ents_f": nlp.get_pipe("crf_ner").score(one)["ents_f"]}
        result["pipeline"][setting] = row
    result["run"] = {"cpu": cpu_model(), "threads": 1, "commit": commit(), "command": ["python", *sys.argv],
                     "onnxruntime": onnxruntime.__version__, "loadavg": [round(x, 2) for x in os.getloadavg()]}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    for setting, row in result["pipeline"].items():
        print(f"onnx = {setting}: {row['chars_per_cpu_s']:,} chars per CPU s one text at a time, "
              f"identical docs {row['identical_docs']:.4f}", file=sys.stderr)


if __name__ == "__main__":
    run_script(main)
