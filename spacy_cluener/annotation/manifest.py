"""What a run has finished, kept in OUTPUT_DIR so that a rerun resumes it.

- `_plan.json` (written once, atomically): the model (name, version, a
  digest of its files), the inputs (path, size, mtime), the shard size and
  the output format. A rerun with other inputs or settings is refused:
  shard names are positions in the plan, so mixing two plans would mix
  records.
- `_progress.jsonl`: one line per finished shard, appended by the driver
  after the shard file was renamed into place (flushed and fsynced). A line
  cut by a killed driver is dropped on the next run. A shard listed here is
  finished only if its file is there with the size recorded; otherwise it
  is annotated again.
- `_SUCCESS` (atomically, when every shard is finished): the manifest: the
  model, the shards in input order with their record, rejection, entity and
  character counts, the totals and every rejection as `FILE:LINE: reason`.
- `_annotate.lock`: an flock held by the driver, so two runs never write
  into one directory at once (a killed driver's lock goes with its process).
"""
import fcntl
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Dict, List, Optional

from ..errors import Errors
from ..util import PARTIAL, atomic_open
from .inputs import AnnotationError, InputFile, Shard

PLAN = "_plan.json"
PROGRESS = "_progress.jsonl"
SUCCESS = "_SUCCESS"
LOCK = "_annotate.lock"
MANIFEST_VERSION = 1


def write_json_atomic(path: Path, obj) -> None:
    with atomic_open(path, tmp_path=path.with_name(f".{path.name}{PARTIAL}")) as out:
        json.dump(obj, out, ensure_ascii=False, indent=1)
        out.write("\n")


def lock_output_dir(out_dir: Path):
    """RETURNS: the open lock file; keep it open for the run.
    RAISES (AnnotationError): another run holds the lock."""
    handle = open(out_dir / LOCK, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AnnotationError(Errors.E025.format(path=out_dir)) from None
    return handle


def make_plan(
    model: dict, files: List[InputFile], shard_size: int, fmt: str, n_shards: int, settings: Optional[dict] = None
) -> dict:
    """settings: what else changes the output (scores, max_length): a rerun
    with other values would mix them across shards."""
    return {
        "settings": settings or {},
        "manifest_version": MANIFEST_VERSION,
        "model": model,
        "inputs": [{"path": f.path, "name": f.name, "kind": f.kind, "size": f.size, "mtime_ns": f.mtime_ns} for f in files],
        "shard_size": shard_size,
        "format": fmt,
        "n_shards": n_shards,
    }


def check_or_write_plan(out_dir: Path, plan: dict) -> bool:
    """Write the plan of a new run, or check a rerun's plan against the
    stored one. RETURNS (bool): whether a plan was already there.
    RAISES (AnnotationError): the stored plan differs (E026)."""
    path = out_dir / PLAN
    if not path.exists():
        write_json_atomic(path, plan)
        return False
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise AnnotationError(Errors.E027.format(path=path, problem=str(err))) from None
    diffs = plan_differences(stored, plan)
    if diffs:
        raise AnnotationError(Errors.E026.format(path=out_dir, diffs="; ".join(diffs)))
    return True


def plan_differences(stored: dict, plan: dict) -> List[str]:
    diffs = []
    for key in ("manifest_version", "shard_size", "format", "n_shards", "settings"):
        if stored.get(key) != plan.get(key):
            diffs.append(f"{key} {stored.get(key)!r} then, {plan.get(key)!r} now")
    old_model, new_model = stored.get("model") or {}, plan["model"]
    for key in ("lang", "name", "version", "digest"):
        if old_model.get(key) != new_model.get(key):
            diffs.append(f"model {key} {old_model.get(key)!r} then, {new_model.get(key)!r} now")
    # the name as given is part of the plan: it is in the FILE:LINE ids of records without one
    old_inputs = [(i.get("name"), i.get("size"), i.get("mtime_ns")) for i in stored.get("inputs", [])]
    new_inputs = [(i["name"], i["size"], i["mtime_ns"]) for i in plan["inputs"]]
    if old_inputs != new_inputs:
        old_paths, new_paths = [i[0] for i in old_inputs], [i[0] for i in new_inputs]
        if old_paths != new_paths:
            diffs.append(f"inputs {old_paths} then, {new_paths} now (name them as in the first run)")
        else:
            changed = [o[0] for o, n in zip(old_inputs, new_inputs) if o != n]
            diffs.append(f"input files changed since (size or modification time): {changed}")
    return diffs


class Progress:
    """The `_progress.jsonl` journal: finished shards, by name."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / PROGRESS
        self.entries: Dict[str, dict] = {}
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):  # a line cut by a killed driver: drop it
            with open(self.path, "rb+") as handle:
                handle.truncate(len(complete))
        for line in complete.decode("utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("shard"), str):
                self.entries[entry["shard"]] = entry

    def record(self, entry: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        self.entries[entry["shard"]] = entry

    def finished(self, out_dir: Path, shards: List[Shard]) -> "tuple[Dict[str, dict], List[str]]":
        """The entries of `shards` whose file is there with its recorded size,
        and a note for each listed shard that is not (it is annotated again)."""
        done, notes = {}, []
        for shard in shards:
            entry = self.entries.get(shard.name)
            if entry is None:
                continue
            path = out_dir / entry["file"]
            size = path.stat().st_size if path.exists() else None
            if size == entry["bytes"]:
                done[shard.name] = entry
            else:
                problem = "is missing" if size is None else f"has {size} bytes, not {entry['bytes']}"
                notes.append(f"{path}: listed as finished but {problem}; annotating shard {shard.name} again")
        return done, notes


def manifest(plan: dict, shards: List[Shard], entries: Dict[str, dict]) -> dict:
    """The `_SUCCESS` manifest of a finished run."""
    listed = [entries[s.name] for s in shards]
    rejections = [line for e in listed for line in e["rejected"]]
    return {
        "manifest_version": MANIFEST_VERSION,
        "model": plan["model"],
        "format": plan["format"],
        "shard_size": plan["shard_size"],
        "inputs": plan["inputs"],
        "records": sum(e["records"] for e in listed),
        "rejected": len(rejections),
        "entities": sum(e["entities"] for e in listed),
        "chars": sum(e["chars"] for e in listed),
        "shards": [
            {key: e[key] for key in ("shard", "file", "records", "entities", "chars", "bytes")}
            | {"rejected": len(e["rejected"])}
            for e in listed
        ],
        "rejections": rejections,
    }


# The temporary names this package generates in OUTPUT_DIR, and no other:
# `.part-FFFFF-SSSSSS.SUFFIX.TOKEN.partial` (shards, `outputs.py`) and
# `._plan.json.partial`, `._SUCCESS.partial` (`write_json_atomic`).
_OWN_PARTIAL = re.compile(
    r"^\.(part-\d{5}-\d{6}\.[a-z]+\.[0-9a-f]{12}|" + re.escape(PLAN) + "|" + re.escape(SUCCESS) + ")"
    + re.escape(PARTIAL) + "$"
)


def remove_partials(out_dir: Path) -> int:
    """Delete temporary files left by killed workers (only when no worker of
    this run can still be writing): only names this package generates, never
    a user's own `.something.partial`. RETURNS (int): how many."""
    removed = 0
    for path in out_dir.glob(f".*{PARTIAL}"):
        if _OWN_PARTIAL.match(path.name):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def check_output_dir(out_dir: Path) -> None:
    """Refuse an OUTPUT_DIR with files in it that is not one of annotate's
    runs (no `_plan.json`): a run writes and deletes files there.
    RAISES (AnnotationError): E053, or E054 for a path that is not a directory."""
    if out_dir.exists() and not out_dir.is_dir():
        raise AnnotationError(Errors.E054.format(path=out_dir))
    if not out_dir.is_dir() or (out_dir / PLAN).exists():
        return
    others = sorted(p.name for p in out_dir.iterdir() if p.name != LOCK)
    if others:
        raise AnnotationError(Errors.E053.format(path=out_dir, n=len(others), first=others[0]))


def model_digest(path: Path) -> Optional[str]:
    """sha256 over the relative paths and bytes of every file of a pipeline
    directory, so a rerun notices a retrained model with the same meta."""
    digest = hashlib.sha256()
    for file_ in sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(file_.relative_to(path)).encode("utf-8") + b"\0")
        with open(file_, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()
