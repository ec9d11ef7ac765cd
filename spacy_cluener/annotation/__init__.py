"""Batch annotation of corpora into shards, exactly once, locally or on Ray.

`inputs.py` plans the shards and reads records, `outputs.py` writes shard
files atomically, `manifest.py` keeps the plan, the journal of finished
shards and the `_SUCCESS` manifest, `annotate.py` is the driver,
`worker.py` what each worker does with a shard, `engines.py` the engines:
local, and `ray_engine.py` for Ray Data (imported only for `--engine ray`,
so the package works without Ray).
"""
from .annotate import DEFAULT_SHARD_SIZE, FORMATS, RunResult, annotate, read_output
from .engines import ENGINES, run_local
from .inputs import AnnotationError, Shard, plan_shards, read_shard, resolve_inputs
from .outputs import doc_entities
from .worker import ShardAnnotator, WorkerSettings

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "ENGINES",
    "FORMATS",
    "AnnotationError",
    "RunResult",
    "Shard",
    "ShardAnnotator",
    "WorkerSettings",
    "annotate",
    "doc_entities",
    "plan_shards",
    "read_output",
    "read_shard",
    "resolve_inputs",
    "run_local",
]
