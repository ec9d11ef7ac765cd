"""`annotate`: JSON lines or Parquet -> annotated shards and a manifest, on one machine or a Ray cluster."""
import sys
import time
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from tqdm import tqdm

from ..annotation import DEFAULT_SHARD_SIZE, AnnotationError, annotate
from ._app import Arg, Opt, app


class Engine(str, Enum):
    local = "local"
    ray = "ray"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"
    label_studio = "label-studio"
    doccano = "doccano"


@app.command("annotate")
def annotate_cli(
    model: str = Arg(..., help="Pipeline directory or installed package name (every worker loads it by this name)"),
    inputs: List[str] = Arg(..., help="JSON-lines or Parquet files or globs (quote globs), then OUTPUT_DIR", metavar="INPUT... OUTPUT_DIR"),
    engine: Engine = Opt(Engine.local, "--engine", "-e", help="local: this process; ray: a Ray cluster"),
    address: Optional[str] = Opt(None, "--address", help="Ray cluster to connect to (e.g. auto, HOST:6379); default: start a local one"),
    workers: Optional[int] = Opt(None, "--workers", "-w", min=1, help="Ray workers (actors); default: one per CPU of the cluster"),
    shard_size: int = Opt(DEFAULT_SHARD_SIZE, "--shard-size", min=1, help="Lines (Parquet rows) per shard: the unit of retry and resume"),
    batch_size: int = Opt(256, "--batch-size", "-b", min=1, help="Texts per nlp.pipe batch in each worker"),
    fmt: OutputFormat = Opt(OutputFormat.jsonl, "--format", "-f",
                            help="Output shards: JSON lines, Parquet, Label Studio tasks (a JSON list per shard) or doccano JSONL"),
    max_length: Optional[int] = Opt(None, "--max-length", min=1, help="Raise nlp.max_length (characters per text; 1,000,000 by default)"),
    scores: bool = Opt(True, "--scores/--no-scores", help="Entity scores from crf_ner (null without)"),
    num_gpus: float = Opt(0.0, "--num-gpus", min=0.0, help="GPUs per Ray worker (0: CPU)"),
    max_notes: Optional[int] = Opt(None, "--max-notes", min=0,
                                   help="Print at most this many rejection and id-collision lines (all are in _SUCCESS)"),
    max_rejected: Optional[int] = Opt(None, "--max-rejected", min=0,
                                      help="Fail (exit 1, no _SUCCESS) when more records are rejected; default: only when all are"),
):
    """Annotate every record into shards in OUTPUT_DIR, exactly once.

    Input: JSON lines (CLUENER records or any {"id": ..., "text": ...}) or
    Parquet with `text` (and `id`) columns; a record without an id gets
    FILE:LINE. Output: shards of --shard-size input lines, each
    `{"id", "entities": [{"start", "end" (exclusive), "label", "text",
    "score"}]}` per record, and `_SUCCESS`, the manifest (shards, counts,
    rejections, the model's name and version). Bad records are printed as
    FILE:LINE: reason, counted, and never stop the run. Rerunning the same
    command into the same OUTPUT_DIR finishes what a killed run left and
    rewrites no finished shard.
    """
    if len(inputs) < 2:
        typer.echo("Give at least one INPUT and then OUTPUT_DIR.", err=True)
        raise typer.Exit(code=2)
    *patterns, output_dir = inputs
    bar = _ProgressBar(max_notes)
    try:
        result = annotate(
            model, patterns, Path(output_dir), engine=engine.value, fmt=fmt.value, shard_size=shard_size,
            batch_size=batch_size, max_length=max_length, scores=scores, workers=workers, address=address,
            num_gpus=num_gpus, max_rejected=max_rejected, on_start=bar.start, on_shard=bar.update,
        )
    except AnnotationError as err:
        bar.close()
        typer.echo(str(err), err=True)
        raise typer.Exit(code=1) from None
    for note in result.notes:
        tqdm.write(note, file=sys.stderr)
    m = result.manifest
    for line in m["id_collisions"]:
        bar.note(line)
    bar.close()
    collisions = f", {len(m['id_collisions']):,} ids already used (listed in _SUCCESS)" if m["id_collisions"] else ""
    typer.echo(
        f"{output_dir}: {m['records']:,} records, {m['entities']:,} entities, {m['rejected']:,} rejected{collisions}, "
        f"in {result.shards} shards ({result.annotated} annotated now, {result.skipped} finished before); "
        f"{result.seconds:.1f} s"
    )


class _ProgressBar:
    """records/s and chars/s on the driver, one update per finished shard;
    prints each shard's rejections (no bar when stderr is not a terminal)."""

    def __init__(self, max_notes: Optional[int]):
        self.bar = None
        self.max_notes = max_notes
        self.printed = self.chars = 0
        self.started = time.perf_counter()

    def start(self, total: int, done: int) -> None:
        self.bar = tqdm(total=total, initial=done, unit="rec", disable=None, dynamic_ncols=True)
        self.started = time.perf_counter()

    def note(self, line: str) -> None:
        if self.max_notes is None or self.printed < self.max_notes:
            tqdm.write(line, file=sys.stderr)
        self.printed += 1

    def update(self, entry: dict) -> None:
        for line in entry["rejected"]:
            self.note(line)
        self.chars += entry["chars"]
        if self.bar is not None:
            self.bar.update(entry["lines"])
            rate = self.chars / max(time.perf_counter() - self.started, 1e-9)
            self.bar.set_postfix_str(f"{rate:,.0f} chars/s", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.max_notes is not None and self.printed > self.max_notes:
            typer.echo(f"... {self.printed - self.max_notes} more lines (listed in _SUCCESS)", err=True)
            self.printed = self.max_notes
