"""The stages of scripts/gpu_check.py: data, `spacy train` runs, the plain
transformers loop, inference speed, and the project's commands on GPU.

Every stage records what it measured (or its error) into one dict, which the
caller writes to JSON after each stage, so a run cut short still says how far
it got and what broke.
"""
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import spacy
import torch
from spacy.tokens import DocBin

from spacy_cluener.converters import convert_file

from .data import SHARED, TRF_CONFIG
from .hf_loop import hf_loop
from .timing import crf_breakdown, rate, timed

STEP_LOG = Path(__file__).resolve().parent / "step_log.py"
CLUENER = SHARED / "data" / "cluener2020"


def subset(src: Path, n: int, dest: Path) -> Path:
    """The first n records of a CLUENER file (0: all) as a DocBin at dest."""
    if n:
        lines = src.read_text(encoding="utf8").splitlines()[:n]
        src = dest.with_suffix(".json")
        src.write_text("\n".join(lines) + "\n", encoding="utf8")
    doc_bin, _ = convert_file(src, "cluener")
    doc_bin.to_disk(dest)
    return dest


def run_command(args: List[str], log: Callable[[str], None], timeout: float) -> dict:
    """Run one command (a list of arguments), its output into the log; rc,
    seconds and, on failure, the end of its output."""
    log(f"$ {' '.join(args)}")
    start = time.monotonic()
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        rc, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as err:
        rc, output = 124, f"timed out after {timeout:.0f}s\n{err.stdout or ''}{err.stderr or ''}"
    out = {"rc": rc, "seconds": time.monotonic() - start}
    log(output)
    if rc:
        out["error"] = output[-3000:]
    return out


def logger_block(path: Path) -> dict:
    """The config's console logger chained with the step timer."""
    console = {"@loggers": "spacy.ConsoleLogger.v3", "progress_bar": None,
               "console_output": True, "output_file": None}
    step = {"@loggers": "spacy_cluener_bench.StepLog.v1", "path": str(path)}
    return {"@loggers": "spacy.ChainLogger.v1", "logger1": console, "logger2": step}


def train_args(bert_dir: Path, data: Dict[str, Path], out_dir: Path, steps: int, gpu_id: int,
               overrides: Dict[str, object]) -> List[str]:
    """`python -m spacy train configs/trf_crf.cfg` on the random BERT, fixed steps."""
    settings = {
        "components.transformer.model.name": str(bert_dir),
        "paths.train": str(data["train"]),
        "paths.dev": str(data["train_dev"]),
        "training.max_steps": steps,
        "training.eval_frequency": max(2, steps // 3),
        # The check measures speed and a falling loss, not accuracy: a warmup
        # of 10% of the steps instead of 250 (more than the whole run).
        "training.optimizer.learn_rate.warmup_steps": max(1, steps // 10),
        "training.logger": logger_block(out_dir / "step_log.json"),
        **overrides,
    }
    args = [sys.executable, "-m", "spacy", "train", str(TRF_CONFIG), "--output", str(out_dir),
            "--gpu-id", str(gpu_id), "--code", str(STEP_LOG)]
    for key, value in settings.items():
        args += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    return args


def read_step_log(path: Path) -> dict:
    """Train chars/s, the losses per evaluation and the peak memory of one run.

    chars/s: the chars of the steps after the first evaluation interval (a
    warm-up: CUDA kernels, allocator growth) over that many steps at the mean
    time of their plain (not evaluated) steps."""
    record = json.loads(path.read_text(encoding="utf8"))
    evals = record["evals"]
    seconds, plain = record["step_seconds"], record["plain_step"]
    # Loss per 1,000 chars trained on since the previous evaluation: batches
    # of spacy.batch_by_padded.v1 differ in size, so a per-step sum jumps.
    losses = []
    for prev, cur in zip([None] + evals[:-1], evals):
        chars = cur["words"] - (prev["words"] if prev else 0)
        losses.append({"step": cur["step"], "chars": chars,
                       **{k: 1000 * v / max(1, chars) for k, v in cur["losses"].items()}})
    first = evals[1] if len(evals) > 2 else evals[0]
    last = evals[-1]
    timed_steps = [s for i, (s, p) in enumerate(zip(seconds, plain)) if p and i > first["step"]]
    out = {"losses_per_1k_chars": losses, "dev_scores": [e["score"] for e in evals],
           "peak_gpu_mem_bytes": record["peak_gpu_mem_bytes"], "chars_per_s": None,
           "mean_step_seconds": None}
    if timed_steps and last["step"] > first["step"]:
        step_time = sum(timed_steps) / len(timed_steps)
        out["mean_step_seconds"] = step_time
        out["chars_per_s"] = (last["words"] - first["words"]) / ((last["step"] - first["step"]) * step_time)
    crf = [row["crf_ner"] for row in losses[1:]] or [row["crf_ner"] for row in losses]
    out["loss_falls"] = bool(crf and crf[-1] < crf[0])
    return out


def train_run(name: str, bert_dir: Path, data: Dict[str, Path], tmp: Path, steps: int, gpu_id: int,
              overrides: Dict[str, object], log: Callable[[str], None], timeout: float) -> dict:
    out_dir = tmp / f"train-{name}"
    result = run_command(train_args(bert_dir, data, out_dir, steps, gpu_id, overrides), log, timeout)
    result.update(steps=steps, overrides={k: v for k, v in overrides.items()})
    if (out_dir / "step_log.json").exists():
        result.update(read_step_log(out_dir / "step_log.json"))
    result["model"] = str(out_dir / "model-last")
    return result


def inference(model: Path, texts: List[str], gpu: bool, repeats: int, batch_size: int) -> dict:
    """nlp.pipe chars/s on the texts, fp32 and (GPU) fp16 autocast of the
    transformer, and Viterbi's share of crf_ner's predict time (fp32)."""
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    chars = sum(len(t) for t in texts)
    out = {"chars": chars, "docs": len(texts)}
    # spacy-transformers' mixed_precision setting autocasts predict too.
    variants = {"fp32": {}}
    if gpu:
        variants["half"] = {"components": {"transformer": {"model": {"mixed_precision": True}}}}
    for key, config in variants.items():
        nlp = spacy.load(model, config=config)
        _consume(nlp.pipe(texts[:batch_size], batch_size=batch_size))
        seconds = [timed(lambda nlp=nlp: _consume(nlp.pipe(texts, batch_size=batch_size)), sync)
                   for _ in range(repeats)]
        out[f"{key}_chars_per_s"] = rate(chars, seconds)
        if key == "fp32":
            head = type("Loaded", (), {"nlp": nlp})()
            out["viterbi_share"] = crf_breakdown(head, texts, batch_size, 1, sync)["viterbi_share"]
        del nlp
    return out


def _consume(docs) -> None:
    for _ in docs:
        pass


def hf_reference(bert_dir: Path, train: Path, gpu: bool, repeats: int) -> float:
    """chars/s of the plain transformers + pytorch-crf loop (fp32)."""
    doc_bin = DocBin().from_disk(train)
    return hf_loop(bert_dir, doc_bin, {"train_batch_docs": 32, "repeats": repeats},
                   device="cuda" if gpu else "cpu")


def commands(model: Path, data: Dict[str, Path], tmp: Path, gpu_id: int,
             log: Callable[[str], None], timeout: float) -> Dict[str, dict]:
    """spacy evaluate, spacy_cluener report and predict, each on --gpu-id."""
    gpu = ["--gpu-id", str(gpu_id)]
    runs = {
        "evaluate": [sys.executable, "-m", "spacy", "evaluate", str(model), str(data["dev"]),
                     "--output", str(tmp / "metrics.json"), *gpu],
        "report": [sys.executable, "-m", "spacy_cluener", "report", str(model), str(data["dev"]),
                   "--output", str(tmp / "report"), *gpu],
        "predict": [sys.executable, "-m", "spacy_cluener", "predict", str(model), str(data["dev_json"]),
                    str(tmp / "submission.json"), *gpu],
    }
    out = {}
    for key, args in runs.items():
        out[key] = run_command(args, log, timeout)
    if (tmp / "metrics.json").exists():
        metrics = json.loads((tmp / "metrics.json").read_text(encoding="utf8"))
        out["evaluate"]["ents_f"] = metrics.get("ents_f")
    return out


def interop(gpu: bool) -> dict:
    """thinc <-> torch on this device before any training: xp2torch and
    torch2xp (DLPack between CuPy and torch) and, on GPU, CuPy allocating
    through torch (gpu_allocator = "pytorch", what trf_crf.cfg sets)."""
    from thinc.api import get_current_ops, set_gpu_allocator, torch2xp, xp2torch

    out: dict = {"ok": False}
    try:
        if gpu:
            spacy.require_gpu(0)
            set_gpu_allocator("pytorch")
        ops = get_current_ops()
        out["ops"] = type(ops).__name__
        before = torch.cuda.memory_allocated() if gpu else 0
        X = ops.alloc2f(1024, 256) + 1.0
        if gpu:
            out["cupy_through_torch_bytes"] = torch.cuda.memory_allocated() - before
        Xt = xp2torch(X, requires_grad=True, device="cuda:0" if gpu else "cpu")
        out["xp2torch_device"] = str(Xt.device)
        back = torch2xp(Xt.detach() * 2)
        out["torch2xp_type"] = type(back).__module__ + "." + type(back).__name__
        out["ok"] = float(back.sum()) == 2.0 * 1024 * 256 and (not gpu or out["cupy_through_torch_bytes"] > 0)
    except Exception as err:  # the JSON says what broke
        out["error"] = f"{type(err).__name__}: {err}"
    return out


def measured_numbers(result: dict) -> Dict[str, object]:
    """Every figure the check reports, by dotted name (None: not measured)."""
    out = {f"train_chars_per_s.{k}": v for k, v in result.get("train_chars_per_s", {}).items()}
    out.update({f"inference_chars_per_s.{k}": v for k, v in result.get("inference_chars_per_s", {}).items()})
    out.update({f"peak_gpu_mem_bytes.{k}": v for k, v in result.get("peak_gpu_mem_bytes", {}).items()})
    out["viterbi_share"] = result.get("viterbi_share")
    return out


def broken(result: dict) -> List[str]:
    """What failed: a non-zero rc, a missing or non-finite figure, a loss that
    did not fall (GPU runs only: a dry run's few steps need not)."""
    out = list(result.get("errors", []))
    if "interop" in result and not result["interop"].get("ok"):
        out.append(f"interop: {result['interop']}")
    for section in ("train", "commands"):
        for key, row in result.get(section, {}).items():
            if row.get("rc"):
                out.append(f"{section}.{key}: rc {row['rc']}")
            if section == "train" and not result["dry_run"] and row.get("rc") == 0 and not row.get("loss_falls"):
                out.append(f"train.{key}: the loss did not fall")
    for name, value in measured_numbers(result).items():
        if value is None:
            continue
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            out.append(f"{name} = {value}")
    return out


def versions() -> Dict[str, Optional[str]]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for name in ("torch", "cupy-cuda13x", "cupy-cuda12x", "spacy", "thinc", "spacy-transformers",
                 "transformers", "tokenizers", "huggingface-hub", "pytorch-crf", "numpy"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out
