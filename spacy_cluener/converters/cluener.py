"""CLUENER2020 JSON lines -> Docs with one token per character.

A record is `{"text": ..., "label": {TYPE: {ENTITY: [[start, end], ...]}}}`
with inclusive `end`; records without "label" (test.json) become unlabelled
docs whose `id` is kept in `doc.user_data["id"]`. Entities that cannot
coexist in `doc.ents` (overlaps) are reported; the longest is kept there and
all of them are kept in `doc.spans["cluener"]`. Docs are made by the
pipeline's own tokenizer (`spacy.blank("zh")`, char segmenter), so training
and prediction see the same tokens.
"""
import json
import math
from functools import partial
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from .records import ConversionReport, RecordError, check_length, json_lines, whitespace_edge


def read_cluener(path: str, nlp: Language, report: ConversionReport) -> Iterator[Doc]:
    """Yield a Doc for each valid record of a CLUENER file, reporting the rest.

    Blank lines (e.g. trailing ones) are not records. A UTF-8 BOM and CRLF
    line endings are accepted. Bytes that are not UTF-8 reject their record,
    not the file (they are read as lone surrogates, see `check_unicode`).
    """
    return report.convert(_records(path, nlp, report))


def _records(path: str, nlp: Language, report: ConversionReport) -> Iterator[Tuple[int, Callable[[], Doc]]]:
    ids: Dict[str, int] = {}  # id -> line of its first record, to note duplicates
    for line_no, line in json_lines(path, "CLUENER"):
        yield line_no, partial(record_to_doc, line, nlp, line_no, report, ids)


def parse_record(line: str, max_length: Optional[int] = None) -> dict:
    """The JSON object of one CLUENER line, with a `text` that is a valid
    Unicode string (and an `id`, if it is a string, too) of at most
    `max_length` characters (`nlp.max_length`; None: any length). Shared by
    the converter and `predict`, so both accept and reject the same lines.

    RAISES (RecordError): the reason the line is not a record.
    """
    try:
        record = json.loads(line, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as err:
        raise RecordError(f"invalid JSON ({err.msg}: column {err.colno}){utf16_hint(line)}") from None
    except RecursionError:
        raise RecordError("invalid JSON (nested too deeply)") from None
    if not isinstance(record, dict):
        raise RecordError("record is not a JSON object")
    if not isinstance(record.get("text"), str):
        raise RecordError("missing 'text' (or it is not a string)")
    check_unicode(record["text"], "'text'")
    if isinstance(record.get("id"), str):
        check_unicode(record["id"], "'id'")
    if max_length is not None:
        check_length(record["text"], max_length, "'text'")
    return record


def _reject_constant(name: str):
    # Python's json reads NaN/Infinity, which are not JSON: an id of NaN would
    # be echoed into the submission as non-strict JSON.
    raise RecordError(f"invalid JSON ({name} is not a JSON value)")


def _finite_float(text: str) -> float:
    # a number too large for a double (1e400) would be read as inf, which
    # predict would echo as Infinity, as non-strict as a literal one
    value = float(text)
    if math.isinf(value):
        raise RecordError(f"invalid JSON (the number {text:.40} is too large for a double)")
    return value


def utf16_hint(line: str) -> str:
    """Read as UTF-8, a UTF-16 file has NUL bytes between the ASCII characters
    and its BOM shows as the undecodable bytes FF FE or FE FF."""
    if "\x00" in line or line.startswith(("\udcff\udcfe", "\udcfe\udcff")):
        return "; the file looks like UTF-16 (NUL bytes or a UTF-16 BOM): save it as UTF-8"
    return ""


def record_to_doc(
    line: str, nlp: Language, line_no: int, report: ConversionReport, ids: Optional[Dict[str, int]] = None
) -> Doc:
    # a BOM can also start a later line, e.g. after `cat a.json b.json`
    record = parse_record(line.lstrip("\ufeff"), nlp.max_length)
    doc = nlp.make_doc(record["text"])
    if "id" in record:
        doc.user_data["id"] = record["id"]
        key = json.dumps(record["id"], sort_keys=True)
        if ids is not None and key in ids:
            report.note(line_no, f"id {key} was already used on line {ids[key]}")
        elif ids is not None:
            ids[key] = line_no
    if "label" not in record:
        return doc
    spans = _label_spans(doc, record["label"], line_no, report)
    kept = filter_spans(spans)
    for span in spans:
        if span not in kept:
            winner = next(k for k in kept if k.start < span.end and span.start < k.end)
            report.note(
                line_no,
                f"entity {span.label_} '{span.text}' [{span.start_char}, {span.end_char - 1}] "
                f"overlaps {winner.label_} '{winner.text}' [{winner.start_char}, "
                f"{winner.end_char - 1}] and is left out of doc.ents (kept in doc.spans['cluener'])",
            )
    doc.ents = kept
    if len(kept) < len(spans):
        doc.spans["cluener"] = spans
    return doc


def _label_spans(doc: Doc, label, line_no: int, report: ConversionReport) -> List[Span]:
    if not isinstance(label, dict):
        raise RecordError("'label' is not a mapping of type -> {entity: [[start, end], ...]}")
    text = doc.text
    seen = set()
    spans = []
    for ent_type, mentions in label.items():
        check_unicode(ent_type, "a label")
        if not ent_type:
            # spaCy reads an empty label as "no entity": it would vanish silently
            raise RecordError("a label (entity type) is the empty string")
        if not isinstance(mentions, dict):
            raise RecordError(f"label '{ent_type}' is not a mapping of entity -> offsets")
        for entity, offsets in mentions.items():
            check_unicode(entity, f"an entity of {ent_type}")
            if not isinstance(offsets, list):
                raise RecordError(f"offsets of {ent_type} '{entity}' are not a list")
            for pair in offsets:
                start, end = _check_offsets(pair, ent_type, entity, text)
                report.entities_read += 1
                key = (start, end, ent_type)
                if key in seen:
                    report.note(line_no, f"{ent_type} '{entity}' [{start}, {end}] is listed twice; kept once")
                    continue
                seen.add(key)
                span = doc.char_span(start, end + 1, label=ent_type)
                if span is None:
                    raise RecordError(
                        f"{ent_type} '{entity}' [{start}, {end}] does not fall on token "
                        f"boundaries (it starts or ends inside whitespace)"
                    )
                if whitespace_edge(span):
                    report.note(line_no, f"{ent_type} '{entity}' [{start}, {end}] starts or ends on whitespace, "
                                         "which crf_ner never puts in an entity: kept, but it cannot be predicted as is")
                spans.append(span)
    return spans


def check_unicode(value: str, what: str) -> None:
    """Reject strings spaCy cannot store: lone surrogates, from a JSON escape
    such as \\ud83d without its pair or from bytes that are not UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise RecordError(
            f"{what} is not valid Unicode: {value[err.start]!r} at position {err.start} "
            f"(a lone surrogate escape, or bytes that are not UTF-8){_gb18030_hint(value)}"
        ) from None


def _gb18030_hint(value: str) -> str:
    """Most non-UTF-8 Chinese files are GBK/GB18030 (MSRA's originals, Excel
    and Notepad on a Chinese Windows): say so when the undecodable bytes,
    read back (surrogateescape), decode as GB18030."""
    try:
        value.encode("utf-8", "surrogateescape").decode("gb18030")
    except UnicodeError:  # a lone surrogate escape, or bytes of another encoding
        return ""
    return "; the file looks like GBK/GB18030: save it as UTF-8 (e.g. iconv -f GB18030 -t UTF-8)"


def _check_offsets(pair, ent_type: str, entity: str, text: str) -> Tuple[int, int]:
    if (
        not isinstance(pair, list)
        or len(pair) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
    ):
        raise RecordError(f"offsets {pair!r} of {ent_type} '{entity}' are not [start, end]")
    start, end = pair
    if start > end:
        raise RecordError(f"offsets [{start}, {end}] of {ent_type} '{entity}' are reversed")
    if start < 0 or end >= len(text):
        raise RecordError(
            f"offsets [{start}, {end}] of {ent_type} '{entity}' are outside the text "
            f"(length {len(text)})"
        )
    if text[start : end + 1] != entity:
        raise RecordError(
            f"span [{start}, {end}] of {ent_type} is '{text[start:end + 1]}' in the text, "
            f"not '{entity}'"
        )
    return start, end
