"""Registered in `spacy train` by `--code scripts/bench/step_log.py`
(scripts/gpu_check.py): a logger that times every step, and a callback that
makes the transformer's mixed precision bfloat16.

Self-contained (imported by spaCy as a loose file): spaCy, torch and the
standard library only.

spaCy calls a logger's `log_step` once per step, after the update: with the
step's info at evaluation steps, with None otherwise. So the time from one
call to the next is one step's update alone when the step was not evaluated
(an evaluation and the model-best save happen before the evaluated step's
call, and so end inside that step's interval, which is left out).
"""
import json
import time
from pathlib import Path
from typing import IO, Callable, Dict, Optional

import torch
from spacy.language import Language
from spacy.util import registry


def _sync() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


@registry.loggers("spacy_cluener_bench.StepLog.v1")
def step_log(path: str) -> Callable:
    """path (str): JSON file, rewritten at each evaluation and at the end:
    {"step_seconds": [...], "plain_step": [...], "evals": [{"step", "words",
    "losses", "score"}], "peak_gpu_mem_bytes"}."""

    def setup(nlp: Language, stdout: IO = None, stderr: IO = None):
        record: Dict = {"step_seconds": [], "plain_step": [], "evals": [], "peak_gpu_mem_bytes": None}
        last = [time.perf_counter()]

        def write() -> None:
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                record["peak_gpu_mem_bytes"] = torch.cuda.max_memory_allocated()
            Path(path).write_text(json.dumps(record), encoding="utf8")

        def log_step(info: Optional[Dict]) -> None:
            _sync()
            now = time.perf_counter()
            record["step_seconds"].append(now - last[0])
            record["plain_step"].append(info is None)
            last[0] = now
            if info is not None:
                record["evals"].append({
                    "step": info["step"],
                    "words": info["words"],
                    "losses": {k: float(v) for k, v in info["losses"].items()},
                    "score": info["score"],
                })
                write()

        return log_step, write

    return setup


@registry.callbacks("spacy_cluener_bench.autocast_dtype.v1")
def autocast_dtype(dtype: str) -> Callable:
    """`[nlp] before_creation`: spacy-transformers autocasts with torch's
    default CUDA autocast dtype (float16) and has no setting for it; this sets
    that default (e.g. "bfloat16") for the process before the pipeline exists."""

    def before_creation(cls):
        torch.set_autocast_dtype("cuda", getattr(torch, dtype))
        return cls

    return before_creation
