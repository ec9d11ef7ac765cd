"""Speed of `crf_ner` next to spaCy's `ner` and a softmax tagger head.

    python scripts/crf_cost.py --output FILE.json [--quick] [--gpu] [--n-docs N] [--repeats R]

One process, the same data (CLUENER dev texts) and the same encoder (the
tok2vec of configs/cnn_crf.cfg) under three heads, plus crf_ner with
pytorch-crf's own likelihood (`crf_ner_torchcrf`, the cost before
`crf_log_likelihood`):

- `crf_ner`: emissions + constrained CRF (this package);
- `ner`: spaCy's `ner` with its default TransitionBasedParser, same labels;
- `softmax`: spaCy's `tagger` trained on the BILUO entity tags (emissions +
  argmax, no CRF; it sets token tags, not `doc.ents`).

Training is `nlp.update` over fixed batches after `nlp.initialize` on the
data; inference is `nlp.pipe` over the texts. An untimed warm-up (a few
batches), then `repeats` timed passes over all the docs, interleaved across
the heads so that load from other processes falls on all of them alike; the
median is reported. Also measured: the share of `crf_ner`'s predict time
spent in Viterbi, the likelihood alone (pytorch-crf's vs ours, ms per batch,
`normalizer_ms`), the cost of entity confidence (`confidence_cost_share`:
the extra predict time of `scores = true`, benchmarks/confidence.py), and
the conversion speed of MSRA train. The parts live in
scripts/bench/. `--gpu` adds the same comparison on a transformer
(BERT-base sized, random weights, real vocab) and a plain transformers +
pytorch-crf training loop, with peak GPU memory.

Set OMP_NUM_THREADS / MKL_NUM_THREADS to fix the CPU thread count; the JSON
records it together with the machine and the load average. Speeds are also
given from process CPU time (`cpu_time_chars_per_s`, `goals_cpu_time`): with
one thread on a shared machine they are close to what the run would take
alone, where wall-clock speeds depend on the other processes.
"""
import json
import math
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Dict, Optional

import spacy
import thinc
import torch
import typer
from thinc.api import Config

from bench import confidence
from bench.configs import cnn_config, head_variants
from bench.data import CLUENER_DEV, CNN_CONFIG, read_dev_docs
from bench.gpu import HEADS, bench_gpu, check_gpu
from bench.normalizer import time_likelihoods
from bench.timing import Head, bench_convert, crf_breakdown, rate, time_heads
from spacy_cluener.cli import run_script

# crf_ner trained with pytorch-crf's own likelihood: the cost before crf_log_likelihood
REFERENCE = "crf_ner_torchcrf"


def machine_info(quick: bool) -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf8") as file_:
            models = (line.split(":", 1)[1].strip() for line in file_ if line.startswith("model name"))
            cpu = next(models, cpu)
    except OSError:
        pass
    return {
        "cpu_model": cpu,
        "cpu_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS"),
        "loadavg_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "spacy": spacy.__version__,
        "thinc": thinc.__version__,
        "quick": quick,
    }


def goals(inference: Dict[str, float], train: Dict[str, float]) -> dict:
    """The targets: crf_ner inference >= 1.5x ner; crf_ner cost <= 1.10x the
    softmax head's in inference and in training (cost = 1/speed). Also the
    training cost with pytorch-crf's own likelihood, for comparison."""
    out = {
        "inference_vs_ner": inference["crf_ner"] / inference["ner"],
        "inference_cost_vs_softmax": inference["softmax"] / inference["crf_ner"],
        "train_cost_vs_softmax": train["softmax"] / train["crf_ner"],
        "train_cost_vs_softmax_torchcrf": train["softmax"] / train[REFERENCE],
    }
    out["met"] = {
        "inference_vs_ner>=1.5": out["inference_vs_ner"] >= 1.5,
        "inference_cost_vs_softmax<=1.10": out["inference_cost_vs_softmax"] <= 1.10,
        "train_cost_vs_softmax<=1.10": out["train_cost_vs_softmax"] <= 1.10,
    }
    return out


def print_table(result: dict) -> None:
    rows = [("", "inference chars/s", "train chars/s", "(CPU time) inference", "train")]
    cpu = result["cpu_time_chars_per_s"]
    for key in HEADS + (REFERENCE,):
        speeds = (result["inference_chars_per_s"][key], result["train_chars_per_s"][key],
                  cpu["inference"][key], cpu["train"][key])
        rows.append((key, *(f"{v:,.0f}" for v in speeds)))
    gpu = result.get("gpu")
    if gpu:
        for key in HEADS + ("hf_loop",):
            inference = gpu["inference_chars_per_s"].get(key)
            train = gpu["train_chars_per_s"][key]
            rows.append((f"gpu {key}", f"{inference:,.0f}" if inference else "-", f"{train:,.0f}", "", ""))
    for row in rows:
        print(f"{row[0]:<18}{row[1]:>20}{row[2]:>16}{row[3]:>24}{row[4]:>10}")
    g, c = result["goals"], result["goals_cpu_time"]
    print(f"viterbi share of crf_ner predict: {result['viterbi_share']:.3f}")
    print(f"entity confidence cost / crf_ner predict: {result['confidence_cost_share']:.3f} "
          f"(goal <= {confidence.GOAL} for scores on by default)")
    for key, text, goal in (
        ("inference_vs_ner", "crf_ner / ner inference speed:   ", ">= 1.5"),
        ("inference_cost_vs_softmax", "crf_ner / softmax inference cost:", "<= 1.10"),
        ("train_cost_vs_softmax", "crf_ner / softmax training cost: ", "<= 1.10"),
        ("train_cost_vs_softmax_torchcrf", "same, pytorch-crf likelihood:    ", "(before)"),
    ):
        print(f"{text} {g[key]:.2f} (CPU time {c[key]:.2f}; goal {goal})")
    for shape, row in result["normalizer_ms"].items():
        print(f"likelihood fwd+bwd, {shape} batch: pytorch-crf {row['pytorch_crf_ms']:.1f} ms, "
              f"crf_log_likelihood {row['crf_log_likelihood_ms']:.1f} ms ({row['speedup']:.1f}x)")
    print(f"convert MSRA train: {result['convert_chars_per_s']:,.0f} chars/s")
    if gpu:
        mem = ", ".join(f"{k} {v / 2**30:.2f} GiB" for k, v in gpu["peak_gpu_mem_bytes"].items())
        print(f"GPU ({gpu['device']}) viterbi share of crf_ner predict: {gpu['viterbi_share']:.3f}")
        print(f"peak GPU memory: {mem}")


def main(
    output: Path = typer.Option(..., "--output", help="JSON file to write"),
    quick: bool = typer.Option(False, "--quick", help="Small encoder, ~100 docs: seconds (CI)"),
    gpu: bool = typer.Option(False, "--gpu", help="Also benchmark the transformer pipeline on GPU 0"),
    n_docs: Optional[int] = typer.Option(None, "--n-docs", help="CLUENER dev docs (0: all 1343)"),
    repeats: Optional[int] = typer.Option(None, "--repeats", help="Timed passes per measurement"),
):
    if gpu:
        check_gpu()
    model = Config().from_disk(CNN_CONFIG, interpolate=False)["components"]["tok2vec"]["model"]
    settings = {
        "quick": quick,
        "n_docs": n_docs if n_docs is not None else (100 if quick else 400),
        "repeats": repeats or (3 if quick else 5),
        "train_batch_docs": 32,
        "pipe_batch_size": 256,
        # Quick (CI) mode: a small encoder, and small hash tables, whose dense
        # Adam update would otherwise dominate the few seconds it has.
        "width": 64 if quick else model["encode"]["width"],
        "depth": 1 if quick else model["encode"]["depth"],
        "char_rows": 2000 if quick else model["embed"]["char_rows"],
        "bigram_rows": 5000 if quick else model["embed"]["bigram_rows"],
    }
    result = {"quick": quick, "machine": machine_info(quick), "settings": settings}

    doc_bin = read_dev_docs(settings["n_docs"])
    texts = [doc.text for doc in doc_bin.get_docs(spacy.blank("zh").vocab)]
    chars = sum(len(t) for t in texts)
    settings.update(n_docs=len(texts), chars=chars, data=str(CLUENER_DEV))
    configs = head_variants(cnn_config(settings))
    heads = [Head(key, configs[key], doc_bin) for key in HEADS]
    heads.append(Head(REFERENCE, configs["crf_ner"], doc_bin, reference_likelihood=True))
    times = time_heads(heads, texts, settings)
    result["inference_chars_per_s"] = {k: rate(chars, t["inference"]) for k, t in times.items()}
    result["train_chars_per_s"] = {k: rate(chars, t["train"]) for k, t in times.items()}
    result["seconds"] = times
    result["cpu_time_chars_per_s"] = {
        what: {k: rate(chars, t[f"{what}_cpu"]) for k, t in times.items()} for what in ("inference", "train")
    }
    breakdown = crf_breakdown(heads[0], texts, settings["pipe_batch_size"], settings["repeats"])
    result["viterbi_share"] = breakdown["viterbi_share"]
    result["crf_ner_inference_breakdown"] = breakdown
    result["confidence"] = confidence.measure(heads[0].nlp, texts, settings["pipe_batch_size"], settings["repeats"])
    result["confidence_cost_share"] = result["confidence"]["confidence_cost_share"]
    result["goals"] = goals(result["inference_chars_per_s"], result["train_chars_per_s"])
    cpu = result["cpu_time_chars_per_s"]
    result["goals_cpu_time"] = goals(cpu["inference"], cpu["train"])
    del heads
    result["normalizer_ms"] = time_likelihoods(repeats=settings["repeats"] * 3)
    with tempfile.TemporaryDirectory() as tmp:
        convert = bench_convert(quick, 3, Path(tmp))
        result["convert_chars_per_s"] = convert.pop("chars_per_s")
        result["convert"] = convert
        if gpu:
            result["gpu"] = bench_gpu(doc_bin, texts, settings, Path(tmp))
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    _check_finite(result)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print_table(result)
    print(f"Wrote {output}", file=sys.stderr)


def _check_finite(result: dict) -> None:
    """A zero or NaN speed means a broken measurement: fail, write nothing."""
    speeds = {"convert_chars_per_s": result["convert_chars_per_s"]}
    for section in ("inference_chars_per_s", "train_chars_per_s"):
        speeds.update({f"{section}.{k}": v for k, v in result[section].items()})
    for name, value in speeds.items():
        if not (math.isfinite(value) and value > 0):
            raise RuntimeError(f"benchmark: {name} = {value}")
    if not math.isfinite(result["confidence_cost_share"]):
        raise RuntimeError(f"benchmark: confidence_cost_share = {result['confidence_cost_share']}")
    if not 0.0 <= result["viterbi_share"] <= 1.0:
        raise RuntimeError(f"benchmark: viterbi_share = {result['viterbi_share']}")


if __name__ == "__main__":
    run_script(main)
