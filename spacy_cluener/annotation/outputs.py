"""Annotated records -> shard files, written atomically.

One record per line (JSON lines) or per row (Parquet):
`{"id": ..., "entities": [{"start", "end", "label", "text", "score"}]}`,
character offsets with `end` exclusive (`text[start:end] == entity text`,
as spaCy's `start_char`/`end_char`), `score` the entity's CRF marginal
(`doc.spans[key].attrs["scores"]`, see crf_ner) or null without scores.
`id` is always a string (`inputs.record_id`), in both formats. Two more
formats feed the labelling tools (`converters/labelling.py`): `label-studio`
(each shard `NAME.tasks.json`, one JSON list of Label Studio tasks, the entities as a
prediction with scores; import the shard files into a project) and `doccano`
(JSON lines of doccano's import format, `scores` beside `label`).

A shard is written to a hidden temporary file in the output directory
(`.NAME.TOKEN.partial`; readers such as pyarrow and Spark skip names that
start with "." or "_") and renamed into place: a shard file is complete or
absent, and a retried shard replaces it with the same bytes.
"""
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

from spacy.tokens import Doc

from ..converters.labelling import doccano_record, label_studio_task
from ..util import PARTIAL, atomic_open, json_line

SUFFIXES = {"jsonl": ".jsonl", "parquet": ".parquet", "label-studio": ".tasks.json", "doccano": ".jsonl"}


def doc_entities(doc: Doc, scores_key: Optional[str]) -> List[Dict[str, Any]]:
    """doc.ents as dicts, each with its score from doc.spans[scores_key]."""
    by_span = {}
    if scores_key is not None and scores_key in doc.spans:
        group = doc.spans[scores_key]
        raw = group.attrs.get("scores")
        if raw is not None:
            by_span = {(s.start, s.end, s.label): float(v) for s, v in zip(group, raw)}
    return [
        {
            "start": ent.start_char,
            "end": ent.end_char,
            "label": ent.label_,
            "text": ent.text,
            "score": by_span.get((ent.start, ent.end, ent.label)),
        }
        for ent in doc.ents
    ]


class ShardWriter:
    """Collects a shard's records and writes them in one atomic step:
    `commit()` writes the temporary file, fsyncs it and renames it to
    OUT_DIR/NAME.SUFFIX; `discard()` (or an error) leaves no file behind."""

    def __init__(self, out_dir: Path, name: str, fmt: str, model_version: str = ""):
        self.path = Path(out_dir) / (name + SUFFIXES[fmt])
        self.tmp_path = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:12]}{PARTIAL}")
        self.fmt = fmt
        self.model_version = model_version
        self.rows: List[Dict[str, Any]] = []

    def add(self, record_id: str, entities: List[Dict[str, Any]], text: str = "") -> None:
        if self.fmt == "label-studio":
            self.rows.append(label_studio_task(text, record_id, entities, self.model_version))
        elif self.fmt == "doccano":
            self.rows.append(doccano_record(text, record_id, entities))
        else:
            self.rows.append({"id": record_id, "entities": entities})

    def commit(self) -> int:
        """RETURNS (int): the size of the shard file in bytes."""
        with atomic_open(self.path, "wb" if self.fmt == "parquet" else "w", tmp_path=self.tmp_path) as out:
            if self.fmt == "parquet":
                self._write_parquet(out)
            elif self.fmt == "label-studio":
                out.write("[\n" + ",\n".join(json_line(row).rstrip("\n") for row in self.rows) + "\n]\n")
            else:
                for row in self.rows:
                    out.write(json_line(row))
        return self.path.stat().st_size

    def discard(self) -> None:
        self.tmp_path.unlink(missing_ok=True)

    def _write_parquet(self, out) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(
            self.rows, schema=parquet_schema()
        )
        pq.write_table(table, out)


def parquet_schema():
    import pyarrow as pa

    entity = pa.struct(
        [("start", pa.int64()), ("end", pa.int64()), ("label", pa.string()), ("text", pa.string()),
         ("score", pa.float64())]
    )
    return pa.schema([("id", pa.string()), ("entities", pa.list_(entity))])
