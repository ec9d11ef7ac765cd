"""What the SoftLexicon features cost: configs/cnn_crf.cfg with and without them.

    python scripts/lexicon_cost.py [--n-docs 1000] [--repeats 3] [--output benchmarks/lexicon.json]

One process, the same CLUENER dev docs, the same batches: training passes
(`nlp.update`) and inference passes (`nlp.pipe`) of the pipeline with the
lexicon (the default), with its word sets but no POS classes
(`pos_classes = false`) and without it (the `lexicon` block removed), timed
alternately as in scripts/crf_cost.py (median of the repeats, wall and
process CPU time; one torch thread). Also: reading the dictionary at
initialize, and matching it alone (chars/s of `Lexicon.match` over the texts).
Prints figures only.
"""
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Optional

import numpy
import torch
import typer
from spacy.util import load_config

from bench.data import CNN_CONFIG, read_dev_docs
from bench.timing import Head, time_heads
from spacy_cluener.cli import run_script
from spacy_cluener.layers.soft_lexicon import doc_codes
from spacy_cluener.lexicon import Lexicon

SETTINGS = {"train_batch_docs": 32, "pipe_batch_size": 256}


def main(
    n_docs: int = typer.Option(1000, help="CLUENER dev docs (0: all 1,343)"),
    repeats: int = typer.Option(3, help="timed passes of each"),
    output: Optional[Path] = typer.Option(None, help="also write the figures as JSON"),
):
    torch.set_num_threads(1)
    doc_bin = read_dev_docs(n_docs)
    with_lex = load_config(CNN_CONFIG)
    without = load_config(CNN_CONFIG)
    without["components"]["tok2vec"]["model"]["embed"].pop("lexicon")
    sets_only = load_config(CNN_CONFIG)
    sets_only["components"]["tok2vec"]["model"]["embed"]["lexicon"]["pos_classes"] = False
    start = time.perf_counter()
    lexicon_head = Head("lexicon", with_lex, doc_bin)
    init_s = time.perf_counter() - start
    heads = [Head("no_lexicon", without, doc_bin), Head("lexicon_sets", sets_only, doc_bin), lexicon_head]
    texts = [eg.reference.text for eg in heads[0].examples]
    chars = sum(map(len, texts))
    times = time_heads(heads, texts, {**SETTINGS, "repeats": repeats})
    result = {"n_docs": len(texts), "chars": chars, "repeats": repeats,
              "initialize_with_lexicon_s": round(init_s, 2)}
    for head in heads:
        t = times[head.key]
        result[head.key] = {
            "train_chars_per_s": round(chars / statistics.median(t["train"])),
            "train_cpu_chars_per_s": round(chars / statistics.median(t["train_cpu"])),
            "inference_chars_per_s": round(chars / statistics.median(t["inference"])),
            "inference_cpu_chars_per_s": round(chars / statistics.median(t["inference_cpu"])),
        }
    for key in ("train_cpu_chars_per_s", "inference_cpu_chars_per_s", "train_chars_per_s", "inference_chars_per_s"):
        # ratio_*: the default (sets + POS classes); ratio_sets_*: sets alone; both over no lexicon
        result[f"ratio_{key}"] = round(result["lexicon"][key] / result["no_lexicon"][key], 3)
        result[f"ratio_sets_{key}"] = round(result["lexicon_sets"][key] / result["no_lexicon"][key], 3)
    lexicon: Lexicon = lexicon_head.nlp.get_pipe("tok2vec").model.get_ref("embed").get_ref("lexicon").attrs["lexicon"]
    docs = [eg.predicted for eg in lexicon_head.examples]
    codes, ends = doc_codes(docs)
    runs = []
    for _ in range(repeats):
        start = time.process_time()
        starts, _, _ = lexicon.match(codes, ends)
        runs.append(time.process_time() - start)
    result["match_chars_per_s"] = round(chars / statistics.median(runs))
    result["matches_per_char"] = round(len(starts) / chars, 2)
    result["lexicon_words"] = len(lexicon)
    result["machine"] = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                         "load_average": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(result, indent=2))
    if output is not None:
        output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    numpy.seterr(over="ignore")
    run_script(main)
