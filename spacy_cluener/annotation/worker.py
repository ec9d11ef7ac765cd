"""What a worker does, on any engine: load the pipeline once per process and
annotate whole shards into OUT_DIR, returning only a small summary each."""
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import spacy

from ..converters.labelling import model_version
from ..evaluation.confidence import enable_scores, scores_key
from .inputs import Shard, read_shard
from .outputs import ShardWriter, doc_entities


@dataclass
class WorkerSettings:
    """What every worker needs to annotate a shard: plain values only."""

    model: str  # a pipeline directory (absolute) or an installed package name
    out_dir: str  # absolute
    fmt: str = "jsonl"
    batch_size: int = 256
    max_length: Optional[int] = None
    scores: bool = True


class ShardAnnotator:
    """A loaded pipeline that annotates whole shards into OUT_DIR."""

    def __init__(self, settings: WorkerSettings):
        self.settings = settings
        self.nlp = spacy.load(settings.model)
        if settings.max_length is not None:
            self.nlp.max_length = settings.max_length
        # --no-scores turns them off (no forward-backward), whatever the
        # pipeline's own setting
        enable_scores(self.nlp, settings.scores)
        self.scores_key = scores_key(self.nlp) if settings.scores else None
        self.model_version = model_version(self.nlp)

    def annotate(self, shard: Shard) -> dict:
        """Write the shard's file; RETURNS (dict): its journal entry (counts
        and the `FILE:LINE: reason` of each rejected record)."""
        started, cpu = time.perf_counter(), time.process_time()
        rejected: List[str] = []

        def reject(line: int, reason: str) -> None:
            rejected.append(f"{shard.display}:{line}: {reason}")

        writer = ShardWriter(Path(self.settings.out_dir), shard.name, self.settings.fmt, self.model_version)
        records = read_shard(shard, reject, self.nlp.max_length)
        n_ents = chars = 0
        for doc, record_id in self.nlp.pipe(records, as_tuples=True, batch_size=self.settings.batch_size):
            entities = doc_entities(doc, self.scores_key)
            writer.add(record_id, entities, doc.text)
            n_ents += len(entities)
            chars += len(doc.text)
        size = writer.commit()
        return {
            "shard": shard.name,
            "file": writer.path.name,
            "records": len(writer.rows),
            "rejected": rejected,
            "entities": n_ents,
            "chars": chars,
            "bytes": size,
            "lines": shard.n_lines,
            "seconds": round(time.perf_counter() - started, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }
