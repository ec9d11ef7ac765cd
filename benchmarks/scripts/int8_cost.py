"""The transformer pipeline on CPU, fp32 against int8 (issue 28): speed, size
on disk and memory of configs/trf_crf.cfg on a BERT-base-sized random BERT
(12 layers, hidden 768, the real 21,128-entry vocabulary; the speed does not
depend on the weights), and its `python -m spacy_cluener quantize` copy.

    python scripts/int8_cost.py --output results/int8_cost.json [--n-docs 300] [--repeats 3]
        [--threads 1,2] [--variants fp32,int8,onnx-fp32,onnx-int8] [--layers 12 --hidden 768]

Variants: `fp32` (the trained pipeline as it is), `int8` (its quantize
output, int8 kernels chosen by `--engine auto`: oneDNN on a CPU with int8
dot-product instructions), `int8-x86` (the same with `--engine x86`, torch's
default engine, what quantize packed for before it had `--engine`), and, for the ONNX question of the issue, `onnx-int8`:
`quantize --runtime onnx`'s output (BERT exported to ONNX, int8 by
onnxruntime's dynamic quantisation, run by an onnxruntime session in the
pipeline), and `onnx-fp32`: the fp32 pipeline whose BERT module is replaced by
a session on the fp32 export (a benchmark-only stand-in, bench/int8.py).
Both need `pip install spacy-cluener[onnx]`.

Each variant runs in its own process: it loads the pipeline (RSS after
loading), then for each thread count (torch.set_num_threads; the ONNX
session's intra-op threads) times `nlp.pipe` over the first N CLUENER dev
texts in batches of 64 ("batched") and `nlp(text)` text by text ("single"):
one untimed pass, then the median of the repeats, as characters per wall
second and per process CPU second; the peak RSS while predicting; with
--profile the torch ops of one batched pass at one thread. Ratios over fp32
are per CPU second (on a busy machine CPU time is steadier than wall time;
with 2 threads wall time is the figure that shows the threads).
"""
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from bench.data import read_dev_docs
from bench.int8 import (
    BERT_BASE,
    export_onnx,
    make_bert,
    make_trf_pipeline,
    parse_child,
    profile_pass,
    reset_peak,
    rss_mb,
    speedups,
    thread_list,
    time_modes,
    use_onnx,
)
from bench.record import commit, cpu_model
from spacy_cluener.cli import run_script

PREFIX = "RESULT "
VARIANTS = ("fp32", "int8", "int8-x86", "onnx-fp32", "onnx-int8")


def child(model: str, onnx: Optional[str], texts_file: str, threads: str, repeats: int, batch_size: int,
          profile: bool) -> None:
    """One variant in this process: load, time, measure memory; print one RESULT line."""
    import spacy
    import torch

    texts = json.loads(Path(texts_file).read_text(encoding="utf8"))
    torch.set_num_threads(1)
    nlp = spacy.load(model)
    if onnx:
        use_onnx(nlp, Path(onnx), 1)
    trf_shim = nlp.get_pipe("transformer").model.layers[0].shims[0]
    if hasattr(trf_shim, "set_threads"):  # quantize --runtime onnx: its session's threads
        trf_shim.set_threads(1)
    import gc

    gc.collect()
    loaded = rss_mb()
    reset = reset_peak()
    result = {"loaded_rss_mb": round(loaded, 1), "threads": {}}
    for n in thread_list(threads):
        torch.set_num_threads(n)
        if onnx:
            use_onnx(nlp, Path(onnx), n)
        if hasattr(trf_shim, "set_threads"):
            trf_shim.set_threads(n)
        result["threads"][str(n)] = time_modes(nlp, texts, repeats, batch_size)
        print(f"  {n} thread(s): " + ", ".join(f"{mode} {row['chars_per_cpu_s']:,} chars/CPU s "
                                              f"({row['chars_per_s']:,}/s wall)"
                                              for mode, row in result["threads"][str(n)].items()), flush=True)
    result["peak_rss_mb"] = round(rss_mb("VmHWM"), 1)
    result["peak_is_after_loading"] = reset
    if profile:
        torch.set_num_threads(1)
        if onnx:
            use_onnx(nlp, Path(onnx), 1)
        if hasattr(trf_shim, "set_threads"):
            trf_shim.set_threads(1)
        result["profile"] = profile_pass(nlp, texts, batch_size)
    print(PREFIX + json.dumps(result), flush=True)


def main(
    output: Path = typer.Option(..., "--output", help="result JSON"),
    n_docs: int = typer.Option(300, "--n-docs", help="first N CLUENER dev docs"),
    repeats: int = typer.Option(3, "--repeats", help="timed passes of each mode"),
    threads: str = typer.Option("1,2", "--threads", help="torch (and onnxruntime) thread counts"),
    variants: str = typer.Option("fp32,int8", "--variants", help=f"comma-separated: {', '.join(VARIANTS)}"),
    batch_size: int = typer.Option(64, "--batch-size", help="nlp.pipe batch size (configs/trf_crf.cfg's)"),
    layers: int = typer.Option(BERT_BASE["layers"], "--layers"),
    hidden: int = typer.Option(BERT_BASE["hidden"], "--hidden"),
    profile: bool = typer.Option(True, "--profile/--no-profile", help="torch ops of one batched pass"),
    child_args: Optional[str] = typer.Option(None, "--child", hidden=True),
) -> None:
    if child_args:
        c = json.loads(child_args)
        child(c["model"], c["onnx"], c["texts"], threads, repeats, batch_size, profile)
        return
    names = [v.strip() for v in variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or "fp32" not in names:
        raise typer.BadParameter(f"{variants!r}: choose from {', '.join(VARIANTS)}, fp32 included (the baseline)")
    from spacy_cluener.quantization import quantize

    heads = max(1, hidden // 64)
    shape = {"layers": layers, "hidden": hidden, "heads": heads, "intermediate": 4 * hidden}
    texts = [doc.text for doc in read_dev_docs(n_docs).get_docs(__import__("spacy").blank("zh").vocab)]
    result = {
        "settings": {"n_docs": len(texts), "chars": sum(map(len, texts)), "repeats": repeats, "batch_size": batch_size,
                     "threads": thread_list(threads), "variants": names, "bert": {**shape, "vocab": 21128,
                                                                                 "weights": "random"}},
        "machine": {"cpu_model": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "loadavg_start": [round(x, 2) for x in os.getloadavg()]},
        "run": {"commit": commit(), "command": sys.argv},
        "variants": {},
    }
    import torch

    result["machine"]["torch"] = torch.__version__
    with tempfile.TemporaryDirectory(prefix="int8_cost.") as tmp:
        tmp = Path(tmp)
        bert = make_bert(tmp / "bert", layers, hidden, heads, 4 * hidden)
        fp32 = make_trf_pipeline(bert, tmp / "fp32", texts[:8])
        summary = quantize(fp32, tmp / "int8")
        result["int8_engine"] = summary["engine_here"]
        if "int8-x86" in names:
            quantize(fp32, tmp / "int8-x86", engine="x86")
        result["size_bytes"] = {
            "bert_transformer_weights": {"fp32": summary["weights_bytes"]["transformer"]["fp32"],
                                         "int8": summary["weights_bytes"]["transformer"]["int8"]},
            "pipeline": summary["pipeline_bytes"],
        }
        onnx_files = {}
        if any(v.startswith("onnx") for v in names):
            import onnxruntime

            result["machine"]["onnxruntime"] = onnxruntime.__version__
            onnx_files["onnx-fp32"] = export_onnx(bert, tmp / "bert.onnx")
            quantize(fp32, tmp / "onnx-int8", runtime="onnx")
            result["size_bytes"]["onnx_encoder"] = {"fp32": onnx_files["onnx-fp32"].stat().st_size,
                                                    "int8": (tmp / "onnx-int8" / "transformer" / "model").stat().st_size}
        texts_file = tmp / "texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf8")
        for name in names:
            model = tmp / (name if name in ("int8", "int8-x86", "onnx-int8") else "fp32")
            args = json.dumps({"model": str(model), "onnx": str(onnx_files[name]) if name in onnx_files else None,
                               "texts": str(texts_file)})
            cmd = [sys.executable, __file__, "--output", str(output), "--child", args, "--threads", threads,
                   "--repeats", str(repeats), "--batch-size", str(batch_size),
                   "--profile" if profile else "--no-profile"]
            print(f"{name}:", flush=True)
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            print("\n".join(line for line in proc.stdout.splitlines() if not line.startswith(PREFIX)), flush=True)
            row = parse_child(proc.stdout, PREFIX)
            if proc.returncode != 0 or row is None:
                raise SystemExit(f"int8_cost: {name} failed:\n{proc.stderr[-3000:]}")
            result["variants"][name] = row
    result["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    result["speedup_vs_fp32"] = speedups(result["variants"])
    sizes = result["size_bytes"]["bert_transformer_weights"]
    result["goals"] = {
        "int8_size_ratio": round(sizes["int8"] / sizes["fp32"], 3),
        "size_goal_at_most": round(1 / 3, 3),
    }
    for name in names[1:]:
        one = result["speedup_vs_fp32"][name].get("1")
        if one:
            result["goals"][f"{name}_speedup_1_thread_cpu"] = {mode: r["cpu"] for mode, r in one.items()}
    result["goals"]["speedup_goal_at_least"] = 2.5
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(json.dumps({"speedup_vs_fp32": result["speedup_vs_fp32"], "goals": result["goals"]}, indent=1))
    print(f"wrote {output}")


if __name__ == "__main__":
    run_script(main)
