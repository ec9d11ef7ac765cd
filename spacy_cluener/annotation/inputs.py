"""Input files -> deterministic shards -> records.

A shard is K consecutive lines of a JSON-lines file (a byte range, found by
one scan of the file) or K consecutive rows of a Parquet file (a row range,
from its metadata). Its name is a pure function of the input list and K, so
whoever computes a shard, and however often, writes the same file.

Records are read as `predict` reads them (`parse_record`: the same accepted
and rejected lines); a bad record is reported as `FILE:LINE: reason` through
a callback and the rest of the shard goes on. Every id is a string, so a
JSON or Parquet reader sees one column type: a record's own string id as is,
any other JSON value as its JSON text (`1` -> "1", `true` -> "true"), and a
record without an id (absent or null) `FILE:LINE` (its 1-based line, or row
in Parquet), stable across runs.
"""
import glob
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, List, Optional, Tuple

from ..converters import RecordError, parse_record
from ..converters.records import check_length
from ..errors import Errors

PARQUET_SUFFIXES = (".parquet", ".pq")
# rows per Parquet read batch (memory per worker is bounded by it, not by the file)
PARQUET_READ_ROWS = 4096

Reject = Callable[[int, str], None]


class AnnotationError(ValueError):
    """A problem that stops `annotate` before or between shards; str() is one line."""


@dataclass(frozen=True)
class InputFile:
    path: str  # absolute: what the workers open
    name: str  # as given (after glob expansion): in generated ids and messages
    kind: str  # "jsonl" or "parquet"
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Shard:
    name: str  # output file name without suffix: part-FFFFF-SSSSSS
    path: str
    display: str
    kind: str
    size: int  # the input file's size when the run was planned
    start: int  # JSON lines: byte offset; Parquet: row index (0-based)
    end: int  # exclusive
    first: int  # line (row) number of the first line (row) of the range, from 1
    n_lines: int  # lines (rows) in the range, blank lines included

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Shard":
        return cls(**data)


def resolve_inputs(patterns: Iterable[str], skip_dir: Optional[Path] = None) -> List[InputFile]:
    """Files and globs (`**` recursive), in the order given, globs sorted;
    a file named twice is read once.

    skip_dir (Optional[Path]): files a glob finds in it are left out (the
        output directory: a rerun must not read its own outputs as inputs);
        a file named explicitly is kept, for the caller to refuse.

    RAISES (AnnotationError): a pattern that matches no file, a missing path
        or a directory.
    """
    files: List[InputFile] = []
    seen = set()
    for pattern in patterns:
        if glob.has_magic(pattern):
            names = sorted(p for p in glob.glob(pattern, recursive=True)
                           if os.path.isfile(p) and not (skip_dir is not None and is_inside(p, skip_dir)))
            if not names:
                raise AnnotationError(Errors.E021.format(pattern=pattern))
        elif os.path.isdir(pattern):
            raise AnnotationError(Errors.E022.format(path=pattern, problem="is a directory"))
        elif not os.path.exists(pattern):
            raise AnnotationError(Errors.E022.format(path=pattern, problem="does not exist"))
        elif not os.path.isfile(pattern):
            # shards are byte ranges, read again by each worker and by a resumed run
            raise AnnotationError(Errors.E022.format(
                path=pattern, problem="is not a regular file (a pipe or a device such as /dev/stdin): annotate "
                "reads its inputs in byte ranges, more than once, and resumes from them; save it to a file first"))
        else:
            names = [pattern]
        for name in names:
            real = os.path.realpath(name)
            if real in seen:
                continue
            seen.add(real)
            stat = os.stat(real)
            kind = "parquet" if name.lower().endswith(PARQUET_SUFFIXES) else "jsonl"
            files.append(InputFile(real, name, kind, stat.st_size, stat.st_mtime_ns))
    return files


def plan_shards(files: List[InputFile], shard_size: int) -> Iterator[Shard]:
    """The shards of `files`, K = shard_size lines (rows) each, in input order."""
    for index, file_ in enumerate(files):
        ranges = _parquet_ranges(file_, shard_size) if file_.kind == "parquet" else _jsonl_ranges(file_, shard_size)
        for k, (start, end, first, n_lines) in enumerate(ranges):
            yield Shard(f"part-{index:05d}-{k:06d}", file_.path, file_.name, file_.kind, file_.size,
                        start, end, first, n_lines)


# A line and its end, as Python's universal newlines split text: b"\n", b"\r\n" or a lone b"\r".
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _raw_lines(handle: BinaryIO) -> Iterator[bytes]:
    """The lines of a binary file from its position, with their ends, split
    as `predict` and `convert` split them (universal newlines), so that a
    FILE:LINE is the same line for all three; their lengths add up to the
    byte offsets of the shards. (A b"\r" byte is never part of a UTF-8
    character.)"""
    for chunk in handle:  # up to b"\n": a b"\r\n" is never cut in two
        cr = chunk.find(b"\r")
        if cr == -1 or (cr == len(chunk) - 2 and chunk.endswith(b"\r\n")):
            yield chunk
        else:
            yield from _LINE.findall(chunk)


def _jsonl_ranges(file_: InputFile, shard_size: int) -> Iterator[Tuple[int, int, int, int]]:
    """(byte start, byte end, first line, lines) every `shard_size` lines
    (`_raw_lines`: LF, CRLF or CR)."""
    start = offset = count = 0
    first = 1
    with open(file_.path, "rb") as handle:
        for line_no, raw in enumerate(_raw_lines(handle), start=1):
            offset += len(raw)
            count += 1
            if count == shard_size:
                yield start, offset, first, count
                start, first, count = offset, line_no + 1, 0
    if count:
        yield start, offset, first, count


def _parquet_ranges(file_: InputFile, shard_size: int) -> Iterator[Tuple[int, int, int, int]]:
    pq = parquet_module()
    try:
        parquet = pq.ParquetFile(file_.path)
    except Exception as err:  # pyarrow raises ArrowInvalid/OSError for a file that is not Parquet
        raise AnnotationError(Errors.E022.format(path=file_.name, problem=f"cannot be read as Parquet ({err})")) from None
    if "text" not in parquet.schema_arrow.names:
        raise AnnotationError(
            Errors.E022.format(path=file_.name, problem=f"has no 'text' column (columns: {parquet.schema_arrow.names})")
        )
    rows = parquet.metadata.num_rows
    for start in range(0, rows, shard_size):
        end = min(start + shard_size, rows)
        yield start, end, start + 1, end - start


def read_shard(shard: Shard, reject: Reject, max_length: int) -> Iterator[Tuple[str, str]]:
    """(text, id) of each valid record of the shard, in order; each bad one
    calls reject(line, reason). Blank lines are not records.

    RAISES (AnnotationError): the input file changed size since the run was planned.
    """
    return ((text, record_id) for _, text, record_id in read_shard_lines(shard, reject, max_length))


def read_shard_lines(shard: Shard, reject: Reject, max_length: int) -> Iterator[Tuple[int, str, str]]:
    """(line, text, id) of each valid record of the shard: `read_shard` with
    the line (Parquet: row) number of each record, from 1."""
    if os.path.getsize(shard.path) != shard.size:
        raise AnnotationError(Errors.E023.format(path=shard.display, size=shard.size))
    if shard.kind == "parquet":
        return _read_parquet(shard, reject, max_length)
    return _read_jsonl(shard, reject, max_length)


def _read_jsonl(shard: Shard, reject: Reject, max_length: int) -> Iterator[Tuple[int, str, str]]:
    with open(shard.path, "rb") as handle:
        handle.seek(shard.start)
        lines = _raw_lines(handle)
        for line_no in range(shard.first, shard.first + shard.n_lines):
            # surrogateescape: bytes that are not UTF-8 reject their record, not the
            # file (check_unicode in parse_record); a BOM may start any line (`cat a b`)
            line = next(lines, b"").decode("utf-8", errors="surrogateescape").lstrip("\ufeff")
            if not line.strip():
                continue
            try:
                record = parse_record(line, max_length)
            except RecordError as err:
                reject(line_no, str(err))
                continue
            yield line_no, record["text"], record_id(record.get("id"), shard.display, line_no)


def _read_parquet(shard: Shard, reject: Reject, max_length: int) -> Iterator[Tuple[int, str, str]]:
    pq = parquet_module()
    parquet = pq.ParquetFile(shard.path)
    columns = ["text"] + (["id"] if "id" in parquet.schema_arrow.names else [])
    groups, row, position = [], 0, 0  # the row groups that overlap [start, end), and the first row of the first
    for i in range(parquet.metadata.num_row_groups):
        n = parquet.metadata.row_group(i).num_rows
        if row + n > shard.start and row < shard.end:
            if not groups:
                position = row
            groups.append(i)
        row += n
    for batch in parquet.iter_batches(batch_size=PARQUET_READ_ROWS, row_groups=groups, columns=columns):
        if position + batch.num_rows <= shard.start:
            position += batch.num_rows
            continue
        texts = batch.column("text").to_pylist()
        ids = batch.column("id").to_pylist() if "id" in columns else [None] * len(texts)
        for text, value in zip(texts, ids):
            if shard.start <= position < shard.end:
                line_no = position + 1
                try:
                    if not isinstance(text, str):
                        raise RecordError("missing 'text' (or it is not a string)")
                    check_length(text, max_length, "'text'")
                except RecordError as err:
                    reject(line_no, str(err))
                else:
                    yield line_no, text, record_id(value, shard.display, line_no)
            position += 1
        if position >= shard.end:
            return


def record_id(value: Any, display: str, line_no: int) -> str:
    """The id of a record in annotate's output, always a string: its own
    string id; any other value as its JSON text (`1` -> "1", `1.0` -> "1.0",
    `true` -> "true"; values strict JSON cannot hold, such as a Parquet
    timestamp or NaN, as their str()); no id (None) -> `FILE:LINE`."""
    if value is None:
        return f"{display}:{line_no}"
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def parquet_module():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise AnnotationError(Errors.E024) from None
    return pq


def is_inside(path: str, directory: Path) -> bool:
    """Whether `path` lies in `directory` (after resolving links)."""
    real_dir = os.path.realpath(directory)
    return os.path.commonpath([os.path.realpath(path), real_dir]) == real_dir
