"""Label Studio and doccano, both directions: their exports in (DocBins, with
`convert`), pre-annotations with scores out (`predict --to`, `annotate
--format`). Worked examples: docs/labelling.md.

In:
- Label Studio's JSON export: a list of tasks `{"id", "data": {"text": ...},
  "annotations": [{"result": [{"type": "labels", "value": {"start", "end",
  "text", "labels": [TYPE]}}], "was_cancelled", "updated_at", ...}]}`
  (`end` exclusive). Of several annotations of a task, the latest
  (`updated_at`, else `created_at`, else the last listed) that was not
  cancelled wins, with a note; a task with no such annotation is rejected
  (not labelled yet). Predictions in the export are not labels and are
  ignored. Offsets are checked against `value.text`; Label Studio counts
  UTF-16 code units (JavaScript), so for texts with characters beyond the
  BMP (emoji, CJK extension B) they are converted, with a note.
- doccano's JSONL export, one record per line: `{"text", "label": [[start,
  end, TYPE], ...]}` (end exclusive) or the newer `"entities": [{"start_offset",
  "end_offset", "label"}]`. doccano exports one file per annotator unless
  collaborative annotation is on, so a line holds one annotation. A record
  without `label`/`entities` becomes an unlabelled doc (as CLUENER test);
  one with both uses both, and its `relations` are skipped, with notes.

Both: entities that overlap are noted, the longest kept in doc.ents and all
of them in `doc.spans[FORMAT]`, as the CLUENER converter does; each record
is counted (read = written + rejected) and rejected with its `FILE:LINE`.

Out: `label_studio_task` (Label Studio's import format with predictions:
`data.text`, `predictions[{model_version, score, result[{value, score}]}]`)
and `doccano_record` (`{"text", "label": [[start, end, TYPE]], "scores"}`).
A task's score is its lowest entity score (`uncertainty_score`), 1.0 with
no entity: Label Studio sorts by it, and `--uncertainty-first` orders by it.
"""
import json
from datetime import datetime, timezone
from functools import partial
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from ..errors import Errors
from .cluener import check_unicode
from .records import ConversionReport, RecordError, check_length, json_lines, whitespace_edge

# the names of Label Studio's NER template: <Labels name="label" toName="text">, <Text name="text" value="$text"/>
FROM_NAME = "label"
TO_NAME = "text"


# ------------------------------------------------------------------ in


def read_label_studio(path: str, nlp: Language, report: ConversionReport) -> Iterator[Doc]:
    """A Doc per task of a Label Studio JSON export (a JSON list, or one task
    per line), reporting the rest."""
    return report.convert(_label_studio_records(path, nlp, report))


def read_doccano(path: str, nlp: Language, report: ConversionReport) -> Iterator[Doc]:
    """A Doc per line of a doccano JSONL export, reporting the rest."""
    return report.convert(_doccano_records(path, nlp, report))


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline=None) as file_:
        return file_.read()


def _label_studio_records(path: str, nlp: Language, report: ConversionReport):
    text = _read_text(path)
    start = len(text) - len(text.lstrip())
    if text[start:start + 1] == "{":  # one task per line (JSON lines)
        for line_no, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                yield line_no, partial(_ls_task_to_doc, partial(_loads, line), nlp, line_no, report)
        return
    if text[start:start + 1] != "[":
        raise ValueError(Errors.E065.format(path=path, fmt="Label Studio", problem="it is neither a JSON list nor JSON lines"))
    decoder = json.JSONDecoder()
    line_of = _LineCounter(text)
    pos = start + 1
    while True:
        pos = _skip_space(text, pos)
        if pos >= len(text):
            # every task so far was whole: the file ends where a task or ']' should
            # be, which is no record (rejecting one added a task to 'read')
            raise ValueError(Errors.E065.format(
                path=path, fmt="complete Label Studio", problem=f"the list is not closed: the file ends at line "
                f"{line_of(pos)}, where a task or ']' should be; it looks truncated, export it again"))
        if text[pos] == "]":
            return
        line_no = line_of(pos)
        try:
            task, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            # the rest of the list cannot be split into tasks: one rejection, and stop
            yield line_no, partial(_raise, f"invalid JSON ({err.msg}: line {err.lineno} column {err.colno}); "
                                           "the rest of the file is not read")
            return
        yield line_no, partial(_ls_task_to_doc, lambda task=task: task, nlp, line_no, report)
        pos = _skip_space(text, end)
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] != "]":
            yield line_of(pos), partial(_raise, "invalid JSON (expected ',' or ']' after a task); "
                                                      "the rest of the file is not read")
            return


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


class _LineCounter:
    """The line number of each position of `text`, counted on from the
    previous one: counting from the start of the file for every task made a
    JSON-list export quadratic in its tasks (16,000 tasks: 71 s)."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def __call__(self, pos: int) -> int:
        if pos < self.pos:  # not the order the reader asks in, but still right
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _raise(reason: str):
    raise RecordError(reason)


def _loads(line: str):
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise RecordError(f"invalid JSON ({err.msg}: column {err.colno})") from None


def _ls_text(data: Any) -> str:
    if not isinstance(data, dict):
        raise RecordError("task has no 'data' object")
    if isinstance(data.get("text"), str):
        return data["text"]
    strings = [k for k, v in data.items() if isinstance(v, str) and k not in ("ref_id", "id")]
    if len(strings) == 1:
        return data[strings[0]]
    raise RecordError(f"task data has no 'text' (keys: {sorted(data)}); name the text field 'text' in the labelling config")


def _choose_annotation(task: dict, line_no: int, report: ConversionReport) -> Optional[dict]:
    annotations = task.get("annotations")
    if annotations is None:
        annotations = task.get("completions") or []  # exports of Label Studio before 1.0
    if not isinstance(annotations, list):
        raise RecordError("'annotations' is not a list")
    kept = [(i, a) for i, a in enumerate(annotations) if isinstance(a, dict) and not a.get("was_cancelled")]
    if not kept:
        return None
    if len(kept) > 1:
        times = {i: _annotation_time(a) for i, a in kept}
        # undated (or unreadable) annotations rank below dated ones; ties: the last listed
        i, best = max(kept, key=lambda ia: (times[ia[0]] is not None, times[ia[0]] or _EPOCH, ia[0]))
        undated = sum(1 for t in times.values() if t is None)
        report.note(line_no, f"task has {len(kept)} annotations; the latest (#{i + 1}, id {best.get('id')}, "
                             f"{best.get('updated_at') or best.get('created_at') or 'no date'}) is used"
                             + (f" ({undated} without a readable date count as oldest)" if undated else ""))
        return best
    return kept[0][1]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _annotation_time(annotation: dict) -> Optional[datetime]:
    """When an annotation was last changed, as a moment in time: compared as
    strings, '10:00:00Z' sorted after '10:00:00.5Z' (Django drops zero
    microseconds) and offsets were ignored. A time without an offset is UTC,
    as Label Studio stores it; None if there is none or it cannot be read."""
    stamp = annotation.get("updated_at") or annotation.get("created_at")
    if not isinstance(stamp, str):
        return None
    stamp = stamp.strip()
    if stamp[-1:] in ("Z", "z"):  # fromisoformat reads 'Z' only from Python 3.11
        stamp = stamp[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _ls_task_to_doc(load: Callable[[], Any], nlp: Language, line_no: int, report: ConversionReport) -> Doc:
    task = load()
    if not isinstance(task, dict):
        raise RecordError("task is not a JSON object")
    text = _ls_text(task.get("data"))
    check_unicode(text, "'text'")
    check_length(text, nlp.max_length, "'text'")
    doc = nlp.make_doc(text)
    record_id = task.get("data", {}).get("ref_id", task.get("id"))
    if record_id is not None:
        doc.user_data["id"] = record_id
    annotation = _choose_annotation(task, line_no, report)
    if annotation is None:
        raise RecordError("task has no annotation that was not cancelled (not labelled yet?)")
    result = annotation.get("result")
    if not isinstance(result, list):
        raise RecordError("the annotation's 'result' is not a list")
    items = []
    for item in result:
        if not isinstance(item, dict):
            raise RecordError(f"result item {item!r:.80} is not an object")
        # the type first: a relation ({"from_id", "to_id", "type": "relation"}) has no 'value'
        if item.get("type") not in (None, "labels"):
            report.note(line_no, f"result of type {item.get('type')!r} is not a span label; skipped")
            continue
        value = item.get("value")
        if not isinstance(value, dict):
            raise RecordError(f"result item {item!r:.80} has no 'value' object")
        if "start" not in value:
            report.note(line_no, f"result of type {item.get('type')!r} is not a span label; skipped")
            continue
        labels = value.get("labels")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
            raise RecordError(f"span {value.get('start')}-{value.get('end')} has no 'labels' list of strings")
        if len(labels) > 1:
            report.note(line_no, f"span {value['start']}-{value['end']} has {len(labels)} labels {labels}; the first is used")
        start, end = _ls_offsets(text, value, line_no, report)
        items.append((start, end, labels[0]))
    _set_entities(doc, items, "label-studio", line_no, report)
    return doc


def _ls_offsets(text: str, value: dict, line_no: int, report: ConversionReport) -> Tuple[int, int]:
    start, end = value.get("start"), value.get("end")
    _check_ints(start, end)
    quoted = value.get("text")
    if quoted is None or text[start:end] == quoted:
        return start, end
    py = utf16_to_py(text)
    if 0 <= start <= end <= len(py) - 1 and text[py[start]:py[end]] == quoted:
        report.note(line_no, f"span {start}-{end} counts UTF-16 code units (Label Studio): read as {py[start]}-{py[end]}")
        return py[start], py[end]
    raise RecordError(f"span [{start}, {end}) is {text[start:end]!r} in the text, not {quoted!r}")


def _check_ints(start, end) -> None:
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        raise RecordError(f"offsets [{start!r}, {end!r}] are not integers")


def utf16_to_py(text: str) -> List[int]:
    """Python index of each UTF-16 offset of `text` (length: UTF-16 length + 1)."""
    out = []
    for i, ch in enumerate(text):
        out.append(i)
        if ord(ch) > 0xFFFF:
            out.append(i)  # the second code unit of a surrogate pair
    out.append(len(text))
    return out


def py_to_utf16(text: str) -> List[int]:
    """UTF-16 offset of each Python index of `text` (length: len(text) + 1)."""
    out, pos = [], 0
    for ch in text:
        out.append(pos)
        pos += 2 if ord(ch) > 0xFFFF else 1
    out.append(pos)
    return out


def _doccano_records(path: str, nlp: Language, report: ConversionReport):
    for line_no, line in json_lines(path, "doccano", hint="; doccano: Export Dataset as JSONL"):
        yield line_no, partial(_doccano_to_doc, line, nlp, line_no, report)


def _doccano_to_doc(line: str, nlp: Language, line_no: int, report: ConversionReport) -> Doc:
    record = _loads(line.lstrip("\ufeff"))
    if not isinstance(record, dict):
        raise RecordError("record is not a JSON object")
    text = record.get("text", record.get("data"))
    if not isinstance(text, str):
        raise RecordError("missing 'text' (or it is not a string)")
    check_unicode(text, "'text'")
    check_length(text, nlp.max_length, "'text'")
    doc = nlp.make_doc(text)
    if record.get("id") is not None:
        doc.user_data["id"] = record["id"]
    for key, what in _DOCCANO_NOT_SPANS.items():
        if isinstance(record.get(key), list) and record[key]:
            report.note(line_no, f"{len(record[key])} {what} in '{key}' skipped: not span labels")
    keys = [k for k in ("entities", "label", "labels") if k in record]
    if not keys:
        return doc  # not annotated
    raw = []
    for key in keys:
        raw += _doccano_spans(record[key], key)
    if sum(1 for k in keys if record[k]) > 1:
        # neither shape wins silently: the spans of both are used (a duplicate is noted and kept once)
        report.note(line_no, f"record has spans in both {' and '.join(repr(k) for k in keys if record[k])}; "
                             "all of them are used")
    items = []
    for start, end, label in raw:
        _check_ints(start, end)
        if not isinstance(label, str):
            raise RecordError(f"label {label!r} of [{start}, {end}) is not a string")
        items.append((start, end, label))
    _set_entities(doc, items, "doccano", line_no, report)
    return doc


# annotations of a doccano record that are not spans, noted when dropped
_DOCCANO_NOT_SPANS = {"relations": "relation(s)", "cats": "category label(s)"}


def _doccano_spans(raw: Any, key: str) -> List[tuple]:
    """(start, end, label) of each span of `key`: 'entities' holds objects
    (doccano 1.6 on), 'label'/'labels' [start, end, TYPE] lists."""
    if key == "entities":
        if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
            raise RecordError("'entities' is not a list of objects")
        return [(e.get("start_offset"), e.get("end_offset"), e.get("label")) for e in raw]
    if not isinstance(raw, list):
        raise RecordError(f"'{key}' is not a list of [start, end, TYPE]")
    if raw and all(isinstance(x, str) for x in raw):
        raise RecordError(f"'{key}' is a list of category names (a text-classification project), not spans")
    if not all(isinstance(x, list) and len(x) == 3 for x in raw):
        raise RecordError(f"'{key}' is not a list of [start, end, TYPE]")
    return [tuple(x) for x in raw]


def _set_entities(doc: Doc, items: Sequence[Tuple[int, int, str]], key: str, line_no: int,
                  report: ConversionReport) -> None:
    text = doc.text
    spans, seen = [], set()
    for start, end, label in items:
        report.entities_read += 1
        check_unicode(label, "a label")
        if not label:
            raise RecordError("a label (entity type) is the empty string")
        if not 0 <= start < end <= len(text):
            raise RecordError(f"span [{start}, {end}) of {label} is outside the text (length {len(text)}) or empty")
        if (start, end, label) in seen:
            report.note(line_no, f"{label} [{start}, {end}) is listed twice; kept once")
            continue
        seen.add((start, end, label))
        span = doc.char_span(start, end, label=label)
        if span is None:
            raise RecordError(f"{label} {text[start:end]!r} [{start}, {end}) does not fall on token boundaries "
                              "(it starts or ends inside whitespace)")
        if whitespace_edge(span):
            report.note(line_no, f"{label} {text[start:end]!r} [{start}, {end}) starts or ends on whitespace, "
                                 "which crf_ner never puts in an entity: kept, but it cannot be predicted as is")
        spans.append(span)
    kept = filter_spans(spans)
    for span in spans:
        if span not in kept:
            winner = next(k for k in kept if k.start < span.end and span.start < k.end)
            report.note(line_no, f"entity {span.label_} '{span.text}' [{span.start_char}, {span.end_char}) overlaps "
                                 f"{winner.label_} '{winner.text}' and is left out of doc.ents (kept in doc.spans['{key}'])")
    doc.ents = kept
    if len(kept) < len(spans):
        doc.spans[key] = spans


# ------------------------------------------------------------------ out


def uncertainty_score(entities: Sequence[Dict[str, Any]]) -> float:
    """A text's score: its lowest entity score; 1.0 without entities (the
    probability of missing one is not computed) or without scores."""
    scores = [e["score"] for e in entities if e.get("score") is not None]
    return float(min(scores)) if scores else 1.0


def label_studio_task(
    text: str, record_id: Any, entities: Sequence[Dict[str, Any]], model_version: str,
    from_name: str = FROM_NAME, to_name: str = TO_NAME,
) -> Dict[str, Any]:
    """One task of Label Studio's import format with the model's entities as
    a prediction (offsets in UTF-16 code units, as Label Studio counts)."""
    u16 = py_to_utf16(text)
    result = []
    for i, e in enumerate(entities):
        item = {
            "id": f"e{i}",
            "from_name": from_name,
            "to_name": to_name,
            "type": "labels",
            "value": {"start": u16[e["start"]], "end": u16[e["end"]], "text": e["text"], "labels": [e["label"]]},
        }
        if e.get("score") is not None:
            item["score"] = round(float(e["score"]), 4)
        result.append(item)
    data = {"text": text}
    if record_id is not None:
        data["ref_id"] = record_id
    return {
        "data": data,
        "predictions": [{"model_version": model_version, "score": round(uncertainty_score(entities), 4),
                         "result": result}],
    }


def doccano_record(text: str, record_id: Any, entities: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """One line of doccano's JSONL import: `label` spans (end exclusive),
    plus `id` and `scores` (parallel to `label`), which doccano keeps as
    metadata."""
    record = {"text": text, "label": [[e["start"], e["end"], e["label"]] for e in entities]}
    if record_id is not None:
        record["id"] = record_id
    record["scores"] = [None if e.get("score") is None else round(float(e["score"]), 4) for e in entities]
    return record


def model_version(nlp: Language) -> str:
    return f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', 'pipeline')}-{nlp.meta.get('version', '0.0.0')}"
