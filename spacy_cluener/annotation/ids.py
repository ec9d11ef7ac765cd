"""Records that share an id, found once a run has finished every shard.

Ids are strings in the output (`inputs.record_id`), so `1`, `"1"` and a
record's own id `"a.jsonl:4"` can collide with each other or with the
`FILE:LINE` made for a record without an id. Nothing is changed: each
record keeps its id and each collision is noted, as `convert` notes
duplicate ids, as `FILE:LINE: id "X" was already used on FILE:LINE`.

One pass over the inputs in the driver (which already scanned them to plan
the shards), holding 8 bytes of hash per record plus the shard and line of
each, so that millions of records fit; the few records whose hashes repeat
are read again to compare their ids themselves.
"""
import hashlib
import json
from array import array
from typing import Dict, List, Optional, Tuple

import numpy

from .inputs import Shard, read_shard_lines


def _hash(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _ignore(line: int, reason: str) -> None:
    """Rejected records have no output row, hence no id to collide."""


def id_collisions(shards: List[Shard], max_length: Optional[int]) -> List[str]:
    """One `FILE:LINE: id ... was already used on FILE:LINE` per record whose
    id an earlier record (in input order) has, in input order."""
    hashes, shard_of, line_of = array("Q"), array("l"), array("q")
    for index, shard in enumerate(shards):
        for line, _, record_id in read_shard_lines(shard, _ignore, max_length):
            hashes.append(_hash(record_id))
            shard_of.append(index)
            line_of.append(line)
    if len(hashes) < 2:
        return []
    values = numpy.frombuffer(hashes, dtype=numpy.uint64)
    order = numpy.argsort(values, kind="stable")
    ordered = values[order]
    repeated = numpy.flatnonzero(ordered[1:] == ordered[:-1])
    if not repeated.size:
        return []
    suspects = set(order[repeated].tolist()) | set(order[repeated + 1].tolist())
    wanted: Dict[int, set] = {}
    for position in suspects:
        wanted.setdefault(shard_of[position], set()).add(line_of[position])
    # read the suspects' ids again, in input order, and compare the ids themselves
    first_use: Dict[str, Tuple[str, int]] = {}
    notes: List[str] = []
    for index in sorted(wanted):
        shard, lines = shards[index], wanted[index]
        for line, _, record_id in read_shard_lines(shard, _ignore, max_length):
            if line not in lines:
                continue
            if record_id in first_use:
                where, first_line = first_use[record_id]
                shown = json.dumps(record_id, ensure_ascii=False)
                notes.append(f"{shard.display}:{line}: id {shown} was already used on {where}:{first_line}")
            else:
                first_use[record_id] = (shard.display, line)
    return notes
