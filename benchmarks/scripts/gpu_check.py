"""The GPU check: the transformer pipeline trained, timed and run on one GPU.

    python scripts/gpu_check.py --output OUT.json [--log OUT.log] [--dry-run]

(scripts/gpu_check.sh installs what the GPU machine lacks, then runs this.)
On GPU 0, with a BERT-base-sized model (12 layers, hidden 768, 12 heads, the
real 21,128-entry vocab, random weights) built in a temp dir:

- `python -m spacy train configs/trf_crf.cfg --gpu-id 0` on CLUENER train for
  a fixed number of steps: fp32, fp16 (spacy-transformers' mixed precision:
  autocast + grad scaling, the CRF in float32), bf16 (the same autocast with
  torch's CUDA autocast dtype set to bfloat16), and a short run with the
  transformer frozen and a BiLSTM under the CRF. Each records train chars/s,
  peak GPU memory (torch.cuda.max_memory_allocated, CuPy allocating through
  torch: gpu_allocator = "pytorch") and the loss per step at each evaluation.
- the reference: transformers + pytorch-crf in a plain loop, same model, fp32
  (`train_chars_per_s.hf_loop`).
- nlp.pipe chars/s of the fp32-trained pipeline on CLUENER dev, fp32 and with
  the transformer under fp16 autocast (`half`), and Viterbi's share of
  crf_ner's predict time.
- first, thinc <-> torch on the device: xp2torch/torch2xp through DLPack
  and CuPy allocating through torch (`interop`).
- `spacy evaluate`, `spacy_cluener report` and `predict`, each with --gpu-id 0:
  rc and seconds.

`--dry-run`: the same code path on CPU with a tiny BERT and a few steps
(mixed precision and peak memory skipped, with a note), in a minute or two;
tests/scripts/test_gpu_check.py runs it so the check cannot rot.
The JSON is written after every stage; `broken` lists what failed (exit 1).
"""
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import spacy
import torch
import typer

from bench.check import (
    CLUENER,
    broken,
    commands,
    hf_reference,
    inference,
    interop,
    subset,
    train_run,
    versions,
)
from bench.gpu import TINY_BERT, check_gpu, make_random_bert
from spacy_cluener.cli import run_script

# Fixed sizes. Estimated (not yet run on a GPU) at about 6 minutes on one
# H100/H200: per `spacy train` ~35 s of start, init and 4 evaluations with a
# model-best save each, plus ~0.3 s a step; then ~3 minutes for the rest.
GPU_SIZES = {"train_docs": 4000, "train_dev_docs": 100, "dev_docs": 0, "hf_docs": 640,
             "steps": {"fp32": 120, "fp16": 120, "bf16": 60, "frozen_bilstm": 30}, "repeats": 2}
DRY_SIZES = {"train_docs": 48, "train_dev_docs": 16, "dev_docs": 24, "hf_docs": 32,
             "steps": {"fp32": 6, "frozen_bilstm": 3}, "repeats": 1}
RUNS = {
    "fp32": {},
    "fp16": {"system.mixed_precision": True},
    "bf16": {"system.mixed_precision": True,
             "nlp.before_creation": {"@callbacks": "spacy_cluener_bench.autocast_dtype.v1", "dtype": "bfloat16"}},
    "frozen_bilstm": {"training.frozen_components": ["transformer"],
                      "components.crf_ner.model.encoder.depth": 1},
}


def main(
    output: Path = typer.Option(..., "--output", help="JSON file to write"),
    log_path: Optional[Path] = typer.Option(None, "--log", help="Log file (default: OUTPUT with .log)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="CPU, tiny BERT, a few steps (CI)"),
    timeout: float = typer.Option(240, "--timeout", help="Seconds allowed to each command it runs"),
):
    start = time.monotonic()
    if not dry_run:
        check_gpu()
    sizes = DRY_SIZES if dry_run else GPU_SIZES
    gpu_id = -1 if dry_run else 0
    log_path = log_path or output.with_suffix(".log")
    output.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("w", encoding="utf8")

    def log(text: str) -> None:
        log_file.write(text.rstrip() + "\n")
        log_file.flush()
        print(text.splitlines()[0] if text.strip() else "", file=sys.stderr)

    result = {"dry_run": dry_run, "device": torch.cuda.get_device_name(0) if not dry_run else "cpu",
              "versions": versions(), "sizes": sizes, "notes": [], "errors": [],
              "train": {}, "train_chars_per_s": {}, "peak_gpu_mem_bytes": {},
              "inference_chars_per_s": {}, "viterbi_share": None, "commands": {}}
    if dry_run:
        result["notes"].append("dry run (CPU): fp16/bf16 mixed precision, half inference and peak GPU "
                               "memory skipped; CUDA autocast needs a GPU")

    def save(stage: str) -> None:
        result["seconds_total"] = time.monotonic() - start
        result["broken"] = broken(result)
        output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
        log(f"[{result['seconds_total']:.0f}s] {stage} done")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bert_dir = make_random_bert(tmp / "bert", **(TINY_BERT if dry_run else {}))
        data = {"train": subset(CLUENER / "train.json", sizes["train_docs"], tmp / "train.spacy"),
                "train_dev": subset(CLUENER / "dev.json", sizes["train_dev_docs"], tmp / "train_dev.spacy"),
                "dev": subset(CLUENER / "dev.json", sizes["dev_docs"], tmp / "dev.spacy"),
                "hf": subset(CLUENER / "train.json", sizes["hf_docs"], tmp / "hf.spacy")}
        dev_lines = (CLUENER / "dev.json").read_text(encoding="utf8").splitlines()
        dev_lines = dev_lines[: sizes["dev_docs"]] if sizes["dev_docs"] else dev_lines
        data["dev_json"] = tmp / "dev-input.json"
        data["dev_json"].write_text("\n".join(dev_lines) + "\n", encoding="utf8")
        result["interop"] = interop(not dry_run)
        save("data, interop")
        for name, steps in sizes["steps"].items():
            row = train_run(name, bert_dir, data, tmp, steps, gpu_id, RUNS[name], log, timeout)
            result["train"][name] = row
            if name != "frozen_bilstm":
                result["train_chars_per_s"][name] = row.get("chars_per_s")
            if not dry_run:
                result["peak_gpu_mem_bytes"][name] = row.get("peak_gpu_mem_bytes")
            save(f"train {name}")
        try:
            if not dry_run:
                torch.cuda.reset_peak_memory_stats()
            result["train_chars_per_s"]["hf_loop"] = hf_reference(bert_dir, data["hf"], not dry_run, sizes["repeats"])
            if not dry_run:
                result["peak_gpu_mem_bytes"]["hf_loop"] = torch.cuda.max_memory_allocated()
        except Exception as err:  # recorded, and the check goes on
            result["errors"].append(f"hf_loop: {type(err).__name__}: {err}")
        save("hf_loop")
        model = Path(result["train"]["fp32"]["model"])
        if model.exists():
            try:
                if not dry_run:
                    spacy.require_gpu(0)
                    from thinc.api import set_gpu_allocator

                    set_gpu_allocator("pytorch")
                texts = [json.loads(line)["text"] for line in dev_lines if line.strip()]
                timing = inference(model, texts, not dry_run, sizes["repeats"], 256)
                result["inference_chars_per_s"] = {k[: -len("_chars_per_s")]: v for k, v in timing.items()
                                                   if k.endswith("_chars_per_s")}
                result["viterbi_share"] = timing["viterbi_share"]
            except Exception as err:
                result["errors"].append(f"inference: {type(err).__name__}: {err}")
            save("inference")
            result["commands"] = commands(model, data, tmp, gpu_id, log, timeout)
        else:
            result["errors"].append("no fp32 model: inference and commands skipped")
        save("commands")
    log_file.close()
    summary = {k: result[k] for k in ("train_chars_per_s", "inference_chars_per_s", "viterbi_share",
                                      "peak_gpu_mem_bytes", "broken", "seconds_total")}
    print(json.dumps(summary, indent=2))
    if result["broken"]:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    run_script(main)
