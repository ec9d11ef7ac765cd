"""What one compiled graph would save one text at a time (issue 27's open
idea, measured before it is built): a CNN pipeline's tok2vec (hash
embeddings, lexicon features in, the embedding Maxout, the CNN) rebuilt in
torch from its weights, exported to ONNX and run by onnxruntime in place of
the thinc model, one doc per call.

    python scripts/onnx_tok2vec.py MODEL MSRA_TEST.txt --output results/onnx_tok2vec.json [--n-docs 2000]

The features (the hashed keys of the character tables, the lexicon's
features) stay numpy, as in the pipeline; the graph takes them. For each doc
of the first N MSRA test sentences, one at a time, one thread, CPU time:
the thinc tok2vec, the features alone, features + the ONNX graph (fp32, and
int8 by onnxruntime's dynamic quantisation); the largest difference of the
vectors from thinc's; and the whole pipeline (`nlp(text)`) with its
tok2vec's `predict` served by each graph: chars/s and the entities it gives
against the pipeline's own (docs with identical entities), and with --dev
the entity P/R/F of each on that corpus. A measurement
only: nothing here is in the package. Needs onnx and onnxruntime.
"""
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List

import numpy
import spacy
import torch
import typer
from spacy.tokens import DocBin
from spacy.training import Example

from bench.record import commit, cpu_model
from bench.speed import read_msra_texts
from spacy_cluener.cli import run_script


def walk(model):
    yield model
    for layer in model.layers:
        yield from walk(layer)


def find(model, name: str) -> List:
    """Every layer of `model` called `name`, depth first."""
    return [m for m in walk(model) if m.name == name]


class Tok2VecGraph(torch.nn.Module):
    """CharNgramEmbed.v2 (+ SoftLexicon features as an input) and
    MaxoutWindowEncoder.v2 in torch, with the weights of a thinc tok2vec."""

    def __init__(self, tok2vec):
        super().__init__()
        tables = find(tok2vec, "hashembed")[:4]
        maxouts, norms = find(tok2vec, "maxout"), find(tok2vec, "layernorm")
        encoder = next(m for m in walk(tok2vec) if m.name.startswith("with_array(residual"))
        self.pad = encoder.attrs.get("pad", 0)
        self.window = find(tok2vec, "expand_window")[0].attrs["window_size"]
        self.n_tables, self.n_hashes = len(tables), 4
        self.E = torch.nn.Parameter(torch.from_numpy(numpy.concatenate([t.get_param("E") for t in tables])))
        self.W = torch.nn.ParameterList([torch.nn.Parameter(torch.from_numpy(
            m.get_param("W").reshape(-1, m.get_dim("nI")).copy())) for m in maxouts])
        self.b = torch.nn.ParameterList([torch.nn.Parameter(torch.from_numpy(m.get_param("b").reshape(-1).copy()))
                                         for m in maxouts])
        self.G = torch.nn.ParameterList([torch.nn.Parameter(torch.from_numpy(n.get_param("G").copy())) for n in norms])
        self.B = torch.nn.ParameterList([torch.nn.Parameter(torch.from_numpy(n.get_param("b").copy())) for n in norms])
        self.pieces = [m.get_dim("nP") for m in maxouts]

    def maxout_norm(self, i: int, X):
        Y = (X @ self.W[i].T + self.b[i]).reshape(X.shape[0], -1, self.pieces[i]).max(dim=2).values
        mu = Y.mean(1, keepdim=True)
        var = ((Y - mu) ** 2).mean(1, keepdim=True) + 1e-8
        return (Y - mu) * var.rsqrt() * self.G[i] + self.B[i]

    def forward(self, keys, lexicon):
        n = keys.shape[0]
        embedded = self.E[keys].reshape(n, self.n_tables, self.n_hashes, -1).sum(2).reshape(n, -1)
        X = self.maxout_norm(0, torch.cat([embedded, lexicon], 1))
        X = torch.nn.functional.pad(X, (0, 0, self.pad, self.pad))
        w = self.window
        for i in range(1, len(self.W)):
            P = torch.nn.functional.pad(X, (0, 0, w, w))
            m = X.shape[0]
            X = X + self.maxout_norm(i, torch.cat([P[k:k + m] for k in range(2 * w + 1)], 1))
        return X[self.pad:X.shape[0] - self.pad]


def feature_fn(tok2vec) -> Callable:
    """doc -> (keys, lexicon features): the numpy inputs of the graph, as the pipeline computes them."""
    tables = find(tok2vec, "hashembed")[:4]
    features, lexicon = find(tok2vec, "char_ngram_features")[0], find(tok2vec, "soft_lexicon")[0]
    offsets = numpy.cumsum([0] + [t.get_param("E").shape[0] for t in tables])[:-1]
    ops = tok2vec.ops

    def run(doc):
        (ids,) = features.predict([doc])
        keys = [ops.hash(ops.as_contig(ids[:, i]), t.attrs["seed"]) % t.get_param("E").shape[0] + offsets[i]
                for i, t in enumerate(tables)]
        return numpy.concatenate(keys, axis=1).astype("int64"), lexicon.predict([doc])[0]

    return run


def main(
    model: Path = typer.Argument(..., exists=True),
    msra_test: Path = typer.Argument(..., exists=True),
    output: Path = typer.Option(..., "--output"),
    n_docs: int = typer.Option(2000, "--n-docs", help="first N sentences (0: all)"),
    numpy_blas: bool = typer.Option(True, "--numpy-blas/--no-numpy-blas", help="the pipeline with numpy_blas.v1"),
    dev: Path = typer.Option(None, "--dev", exists=True, help="also score each variant on this corpus (DocBin)"),
) -> None:
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from speed import NUMPY_BLAS

    torch.set_num_threads(1)
    nlp = spacy.load(model, config=NUMPY_BLAS if numpy_blas else {})
    nlp.get_pipe("crf_ner").with_scores = False
    pipe = nlp.get_pipe("tok2vec")
    tok2vec = pipe.model
    texts = [t for t in read_msra_texts(msra_test, n_docs) if t]
    docs = [nlp.make_doc(t) for t in texts]
    chars = sum(map(len, texts))
    features = feature_fn(tok2vec)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    graph = Tok2VecGraph(tok2vec).eval()
    sessions = {}
    with tempfile.TemporaryDirectory() as tmp:
        keys, lexicon = features(docs[0])
        fp32, int8 = Path(tmp) / "tok2vec.onnx", Path(tmp) / "tok2vec.int8.onnx"
        torch.onnx.export(graph, (torch.from_numpy(keys), torch.from_numpy(lexicon)), str(fp32),
                          input_names=["keys", "lexicon"], output_names=["vectors"], opset_version=17, dynamo=False,
                          dynamic_axes={"keys": {0: "n"}, "lexicon": {0: "n"}, "vectors": {0: "n"}})
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        for name, path in (("onnx-fp32", fp32), ("onnx-int8", int8)):
            sessions[name] = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def serve(session):
        def predict(batch):
            out = []
            for doc in batch:
                k, lex = features(doc)
                out.append(session.run(None, {"keys": k, "lexicon": lex})[0])
            return out
        return predict

    result = {"model": str(model), "numpy_blas": numpy_blas, "n_docs": len(docs), "chars": chars,
              "tok2vec_us_per_doc": {}, "max_abs_diff": {}, "pipeline": {}}
    reference = [tok2vec.predict([doc])[0] for doc in docs[:200]]
    for name, session in sessions.items():
        result["max_abs_diff"][name] = float(max(numpy.abs(serve(session)([d])[0] - r).max()
                                                 for d, r in zip(docs[:200], reference)))

    def per_doc(fn) -> float:
        fn(docs[:100])
        start = time.process_time()
        fn(docs)
        return round((time.process_time() - start) / len(docs) * 1e6, 1)

    result["tok2vec_us_per_doc"]["thinc"] = per_doc(lambda ds: [tok2vec.predict([d]) for d in ds])
    result["tok2vec_us_per_doc"]["features only"] = per_doc(lambda ds: [features(d) for d in ds])
    for name, session in sessions.items():
        result["tok2vec_us_per_doc"][name] = per_doc(serve(session))
    own = pipe.predict
    entities = {}
    for name in ("thinc", *sessions):
        pipe.predict = own if name == "thinc" else serve(sessions[name])
        [nlp(t) for t in texts[:100]]
        start = time.process_time()
        predicted = [[(e.start_char, e.end_char, e.label_) for e in nlp(t).ents] for t in texts]
        seconds = time.process_time() - start
        entities[name] = predicted
        result["pipeline"][name] = {"chars_per_cpu_s": round(chars / seconds), "us_per_doc": round(seconds / len(texts) * 1e6),
                                    "identical_docs": round(sum(a == b for a, b in zip(predicted, entities["thinc"]))
                                                            / len(texts), 5)}
        if dev is not None:
            gold = list(DocBin().from_disk(dev).get_docs(nlp.vocab))
            scores = nlp.evaluate([Example(nlp.make_doc(doc.text), doc) for doc in gold])
            result["pipeline"][name]["dev"] = {"corpus": str(dev), "ents_f": scores["ents_f"], "ents_p": scores["ents_p"],
                                               "ents_r": scores["ents_r"]}
    pipe.predict = own
    result["run"] = {"cpu": cpu_model(), "threads": 1, "commit": commit(), "command": ["python", *sys.argv],
                     "onnxruntime": onnxruntime.__version__, "loadavg": [round(x, 2) for x in os.getloadavg()]}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    for name, row in result["pipeline"].items():
        print(f"{name}: {row['chars_per_cpu_s']:,} chars per CPU s one text at a time, "
              f"identical docs {row['identical_docs']:.4f}", file=sys.stderr)


if __name__ == "__main__":
    run_script(main)
