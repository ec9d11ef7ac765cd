"""Annotate a corpus into shards, exactly once, on any engine.

The driver (`annotate`) plans the shards, skips those a previous run
finished, hands the others to an engine and records each finished shard in
the journal as its summary comes back. An engine (`engines.py`) maps shards to summaries:
`local` in this process, `ray` on a Ray cluster (`ray_engine.py`, imported
only when asked for). Both annotate a shard with `worker.ShardAnnotator`,
which loads the pipeline once per process, writes the shard file itself and
returns only a small summary, so no `nlp` and no annotations travel between
processes. Imports run one way: annotate -> engines -> (ray_engine ->) worker.

Exactly once: a shard's name is a pure function of the plan and its content
a pure function of the input and the model (predictions do not depend on
batching), so a shard computed twice (a worker killed after writing it, a
driver killed before recording it) is written twice with the same bytes,
atomically, and listed once.
"""
import os
import time
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional

import spacy

from ..errors import Errors
from . import manifest as mf
from .engines import get_engine
from .ids import id_collisions
from .inputs import AnnotationError, is_inside, parquet_module, plan_shards, resolve_inputs
from .worker import WorkerSettings

FORMATS = ("jsonl", "parquet", "label-studio", "doccano")
DEFAULT_SHARD_SIZE = 1000
DEFAULT_MAX_LENGTH = 1_000_000  # spaCy's nlp.max_length, which a worker uses without --max-length


def model_info(model: str) -> "tuple[str, dict]":
    """Where workers load the pipeline from (an absolute directory, or the
    installed package name; never the object itself) and its identity for
    the manifest: lang, name, version, spaCy version, digest of its files.

    RAISES (AnnotationError): neither a pipeline directory nor a package.
    """
    if os.path.isdir(model):
        target = path = os.path.realpath(model)
    elif spacy.util.is_package(model):
        target, path = model, str(spacy.util.get_package_path(model))
    else:
        raise AnnotationError(Errors.E028.format(model=model))
    try:
        meta = spacy.util.get_model_meta(path)
    except (OSError, ValueError) as err:
        raise AnnotationError(Errors.E028.format(model=model) + f" ({err})") from None
    info = {key: meta.get(key) for key in ("lang", "name", "version", "spacy_version")}
    info.update(model=model, digest=mf.model_digest(Path(path)))
    return target, info


@dataclass
class RunResult:
    manifest: Optional[dict]  # the _SUCCESS manifest, None if the run did not finish
    shards: int
    skipped: int  # finished by an earlier run
    annotated: int  # by this run
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0


def annotate(
    model: str,
    inputs: Iterable[str],
    out_dir: Path,
    *,
    engine: str = "local",
    fmt: str = "jsonl",
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = 256,
    max_length: Optional[int] = None,
    scores: bool = True,
    workers: Optional[int] = None,
    address: Optional[str] = None,
    num_gpus: float = 0.0,
    max_rejected: Optional[int] = None,
    on_shard: Optional[Callable[[dict], None]] = None,
    on_start: Optional[Callable[[int, int], None]] = None,
    engine_fn: Optional[Callable[..., Iterator[dict]]] = None,
) -> RunResult:
    """Annotate every record of `inputs` into shards in `out_dir`, skipping
    the shards an earlier run of the same plan finished.

    on_start (Callable[[int, int], None]): called with (lines in all
        shards, lines already finished) before the engine starts.
    on_shard (Callable[[dict], None]): called with each finished shard's
        entry once it is recorded (progress, printing its rejections).
    max_rejected (Optional[int]): fail (E055, no _SUCCESS) when more records
        than this are rejected; None: any number, unless every record is.
    engine_fn: replaces the engine's function (tests: a worker that dies).
    RETURNS (RunResult): the manifest and what this run did.
    RAISES (AnnotationError): bad inputs or settings, another plan in
        out_dir, or an engine that failed (finished shards stay recorded).
    """
    start = time.perf_counter()
    if fmt not in FORMATS:
        raise AnnotationError(Errors.E008.format(fmt=fmt, allowed=", ".join(FORMATS)))
    if shard_size < 1:
        raise AnnotationError(Errors.E029.format(what="--shard-size", value=shard_size))
    if engine == "local" and workers not in (None, 1):
        raise AnnotationError(Errors.E030.format(workers=workers))
    if engine == "local" and num_gpus:
        raise AnnotationError(Errors.E057.format(num_gpus=num_gpus))
    run_engine = engine_fn or get_engine(engine)
    # What the run needs, before anything is written: a failed start leaves no plan.
    if engine == "ray" and engine_fn is None and find_spec("ray") is None:
        raise AnnotationError(Errors.E034)
    if fmt == "parquet":
        parquet_module()
    out_dir = Path(out_dir)
    files = resolve_inputs(inputs, skip_dir=out_dir)
    for file_ in files:
        if is_inside(file_.path, out_dir):
            raise AnnotationError(Errors.E031.format(path=file_.name, out_dir=out_dir))
    mf.check_output_dir(out_dir)
    target, info = model_info(model)
    shards = list(plan_shards(files, shard_size))
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = mf.lock_output_dir(out_dir)
    planned_before, progress = True, None
    try:
        plan = mf.make_plan(info, files, shard_size, fmt, len(shards),
                            {"scores": scores, "max_length": max_length})
        planned_before = mf.check_or_write_plan(out_dir, plan)
        progress = mf.Progress(out_dir)
        done, notes = progress.finished(out_dir, shards)
        if notes:
            (out_dir / mf.SUCCESS).unlink(missing_ok=True)  # no longer true
        pending = [s for s in shards if s.name not in done]
        if on_start is not None:
            on_start(sum(s.n_lines for s in shards), sum(s.n_lines for s in shards if s.name in done))
        settings = WorkerSettings(target, os.path.realpath(out_dir), fmt, batch_size, max_length, scores)
        wanted = {s.name for s in pending}
        for entry in run_engine(pending, settings, workers=workers, address=address, num_gpus=num_gpus):
            if entry["shard"] not in wanted:  # an engine must not invent shards
                raise AnnotationError(Errors.E032.format(shard=entry["shard"]))
            if entry["shard"] in done:  # a retried task reported twice: listed once
                continue
            progress.record(entry)
            done[entry["shard"]] = entry
            if on_shard is not None:
                on_shard(entry)
        missing = [s.name for s in shards if s.name not in done]
        result = RunResult(None, len(shards), len(shards) - len(pending), len(pending), notes)
        if missing:
            raise AnnotationError(Errors.E033.format(n=len(missing), first=missing[0]))
        result.manifest = mf.manifest(plan, shards, done)
        _check_rejected(result.manifest, max_rejected)
        result.manifest["id_collisions"] = id_collisions(shards, max_length or DEFAULT_MAX_LENGTH)
        mf.write_json_atomic(out_dir / mf.SUCCESS, result.manifest)
        mf.remove_partials(out_dir)
    except BaseException:
        # A run that failed before finishing any shard (a damaged pipeline, an
        # unreachable cluster) leaves no plan: the next run may use other settings.
        if not planned_before and (progress is None or not progress.entries):
            (out_dir / mf.PLAN).unlink(missing_ok=True)
        raise
    finally:
        lock.close()
    result.seconds = time.perf_counter() - start
    return result


def _check_rejected(manifest: dict, max_rejected: Optional[int]) -> None:
    """RAISES (AnnotationError): too many rejected records (E055): more than
    `max_rejected`, or, with no limit given, all of them (a file in another
    encoding or format is rejected line by line and would look like success)."""
    rejected, total = manifest["rejected"], manifest["records"] + manifest["rejected"]
    if not rejected:
        return
    first = manifest["rejections"][0]
    if max_rejected is not None and rejected > max_rejected:
        raise AnnotationError(Errors.E055.format(rejected=rejected, total=total, limit=max_rejected, first=first))
    if max_rejected is None and rejected == total:
        raise AnnotationError(Errors.E056.format(rejected=rejected, first=first))


def read_output(out_dir: Path) -> List[dict]:
    """Every record of a finished run, in input order, as
    {"id", "entities"} dicts (Label Studio tasks or doccano records for
    those formats)."""
    import json

    manifest = json.loads((Path(out_dir) / mf.SUCCESS).read_text(encoding="utf-8"))
    rows: List[dict] = []
    for shard in manifest["shards"]:
        path = Path(out_dir) / shard["file"]
        if manifest["format"] == "parquet":
            import pyarrow.parquet as pq

            rows.extend(pq.read_table(path).to_pylist())
        elif manifest["format"] == "label-studio":
            rows.extend(json.loads(path.read_text(encoding="utf-8")))
        else:
            with open(path, encoding="utf-8") as handle:
                rows.extend(json.loads(line) for line in handle)
    return rows

