"""int8 against fp32 on a trained transformer pipeline (issue 28): entity
agreement and dev F of the `quantize` output (`int8`, kernels chosen by
`--engine auto`; `int8-x86` too, where auto chose another engine than
torch's default) (and, with --onnx, of the
pipeline whose BERT runs in onnxruntime: fp32, a benchmark-only stand-in,
and int8, `quantize --runtime onnx`) on a dev corpus.

    python scripts/int8_agreement.py MODEL DEV.spacy --output results/int8_agreement.json [--onnx] [--n-docs 0]

Agreement of a variant with fp32: its entities (start, end, label) scored
against fp32's as if fp32's were gold, over all docs: precision, recall and
F (`agreement_f`, the figure of the goal), and the share of docs whose
entities are identical. Dev F: `nlp.evaluate` with the pipeline's own scorer
(micro `ents_f` and macro `ents_macro_f`) against the corpus's gold. One torch
thread; the predictions are batched as `nlp.pipe` does by default.
"""
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Set, Tuple

import spacy
import torch
import typer
from spacy.tokens import DocBin
from spacy.training import Example

from bench.int8 import export_onnx, use_onnx
from bench.record import commit, cpu_model
from spacy_cluener.cli import run_script
from spacy_cluener.quantization import quantize

Ent = Tuple[int, int, str]


def entities(nlp, texts: List[str]) -> List[Set[Ent]]:
    return [{(e.start_char, e.end_char, e.label_) for e in doc.ents} for doc in nlp.pipe(texts)]


def agreement(reference: List[Set[Ent]], other: List[Set[Ent]]) -> Dict[str, float]:
    both = sum(len(a & b) for a, b in zip(reference, other))
    n_ref, n_other = sum(map(len, reference)), sum(map(len, other))
    p = both / n_other if n_other else 1.0
    r = both / n_ref if n_ref else 1.0
    return {
        "agreement_p": round(p, 5), "agreement_r": round(r, 5),
        "agreement_f": round(2 * p * r / (p + r), 5) if p + r else 0.0,
        "identical_docs": round(sum(a == b for a, b in zip(reference, other)) / len(reference), 5),
        "entities": n_other, "entities_fp32": n_ref,
    }


def dev_scores(nlp, docs) -> Dict[str, float]:
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in docs]
    scores = nlp.evaluate(examples)
    return {"ents_p": scores["ents_p"], "ents_r": scores["ents_r"], "ents_f": scores["ents_f"],
            "ents_macro_f": scores.get("ents_macro_f")}


def main(
    model: Path = typer.Argument(..., exists=True, file_okay=False, help="trained fp32 transformer pipeline"),
    dev: Path = typer.Argument(..., exists=True, dir_okay=False, help="dev corpus (.spacy)"),
    output: Path = typer.Option(..., "--output"),
    onnx: bool = typer.Option(False, "--onnx/--no-onnx", help="also the onnxruntime variants (needs onnx, onnxruntime)"),
    n_docs: int = typer.Option(0, "--n-docs", help="first N docs (0: all)"),
) -> None:
    torch.set_num_threads(1)
    fp32 = spacy.load(model)
    docs = list(DocBin().from_disk(dev).get_docs(fp32.vocab))
    docs = docs[:n_docs] if n_docs else docs
    texts = [doc.text for doc in docs]
    result = {"model": str(model), "dev": str(dev), "n_docs": len(docs), "variants": {}}
    reference = entities(fp32, texts)
    result["variants"]["fp32"] = {"dev": dev_scores(fp32, docs), "entities": sum(map(len, reference))}
    with tempfile.TemporaryDirectory(prefix="int8_agreement.") as tmp:
        tmp = Path(tmp)
        sizes = quantize(model, tmp / "int8")
        result["size_bytes"] = sizes["weights_bytes"]
        result["int8_engine"] = sizes["engine_here"]
        variants = {"int8": lambda: spacy.load(tmp / "int8")}
        if sizes["engine_here"] != "x86":
            # what quantize packed for before --engine: torch's default engine
            quantize(model, tmp / "int8-x86", engine="x86")
            variants["int8-x86"] = lambda: spacy.load(tmp / "int8-x86")
        if onnx:
            bert = tmp / "bert"
            shim = fp32.get_pipe("transformer").model.layers[0].shims[0]
            shim._hfmodel.transformer.save_pretrained(bert)
            shim._hfmodel.tokenizer.save_pretrained(bert)
            files = {"onnx-fp32": export_onnx(bert, tmp / "bert.onnx")}

            def with_onnx(path):
                def load():
                    nlp = spacy.load(model)
                    use_onnx(nlp, path, 1)
                    return nlp
                return load

            variants.update({name: with_onnx(path) for name, path in files.items()})
            quantize(model, tmp / "onnx-int8", runtime="onnx")

            def load_onnx_int8():
                nlp = spacy.load(tmp / "onnx-int8")
                nlp.get_pipe("transformer").model.layers[0].shims[0].set_threads(1)
                return nlp

            variants["onnx-int8"] = load_onnx_int8
        for name, load in variants.items():
            nlp = load()
            row = agreement(reference, entities(nlp, texts))
            row["dev"] = dev_scores(nlp, docs)
            row["dev_f_minus_fp32"] = round(row["dev"]["ents_f"] - result["variants"]["fp32"]["dev"]["ents_f"], 5)
            result["variants"][name] = row
            print(f"{name}: agreement F {row['agreement_f']:.4f}, identical docs {row['identical_docs']:.4f}, "
                  f"dev F {row['dev']['ents_f']:.4f} (fp32 {result['variants']['fp32']['dev']['ents_f']:.4f})",
                  flush=True)
            del nlp
    result["goals"] = {"agreement_f_at_least": 0.99, "dev_f_within": 0.005}
    result["run"] = {"cpu": cpu_model(), "threads": 1, "commit": commit(), "command": sys.argv,
                     "loadavg": [round(x, 2) for x in os.getloadavg()]}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(f"wrote {output}")


if __name__ == "__main__":
    run_script(main)
