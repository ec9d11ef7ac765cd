"""Prediction I/O for `predict`: CLUENER records in, leaderboard lines out.

Output: one line per input record, in input order,
`{"id": ..., "label": {TYPE: {ENTITY: [[start, end], ...]}}}` with character
offsets and `end` inclusive (`text[start:end + 1] == ENTITY`), and
`"label": {}` when nothing was found. The id is the record's `id` as given
(CLUENER's test ids are numbers, and the leaderboard wants them back as
such); a record without one (absent or null) gets `FILE:LINE`, its 1-based
line in the input as named, the rule of `annotate` too. With `scores`, each line also
has `"scores": {TYPE: {ENTITY: [score, ...]}}`, parallel to the offsets of
`label` (the entity's CRF marginal, 4 decimals); without it the lines are
exactly the leaderboard format. Records are streamed through
`nlp.pipe`, so the file is never held in memory.

`to` picks another output: Label Studio's import format (one JSON list of
tasks with the entities as predictions) or doccano's JSONL, both with scores
(`converters/labelling.py`). `uncertainty_first` orders the output by how
many tags of each text crf_ner expects to be wrong, most first (ties in input
order; its `expected_errors` setting), and `top` keeps the N most uncertain:
what an annotator should label first. That order, unlike the lowest entity
score, counts entities the model may have missed, and it paid more in the
active-learning simulation (docs/results.md). Those two hold the lines in
memory to sort them.
"""
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc
from tqdm import tqdm

from .annotation.outputs import doc_entities
from .converters import RecordError, parse_record
from .converters.labelling import doccano_record, label_studio_task, model_version, uncertainty_score
from .util import atomic_open, json_line

OUTPUT_FORMATS = ("cluener", "label-studio", "doccano")


class MalformedRecord(ValueError):
    """A line that is not a CLUENER record; str() is `FILE:LINE: reason`."""

    def __init__(self, path: Path, line: int, reason: str):
        super().__init__(f"{path}:{line}: {reason}")


def read_cluener_texts(path: Path, max_length: Optional[int] = None) -> Iterator[Tuple[str, Any]]:
    """Yield (text, id) per record; blank lines are skipped, bad lines raise.

    max_length (Optional[int]): `nlp.max_length`; a longer text is a bad line
        (FILE:LINE), not spaCy's E088 traceback from inside `nlp.pipe`.
    """
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as file_:
        for line_no, line in enumerate(file_, start=1):
            # a BOM can also start a later line (`cat a.json b.json`), as in convert and annotate
            line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            try:
                record = parse_record(line, max_length)
            except RecordError as err:
                raise MalformedRecord(path, line_no, str(err)) from None
            record_id = record.get("id")
            yield record["text"], f"{path}:{line_no}" if record_id is None else record_id


def doc_to_cluener_label(doc: Doc) -> Dict[str, Dict[str, List[List[int]]]]:
    """doc.ents as CLUENER's `label`: type -> entity text -> [[start, end]]."""
    label: Dict[str, Dict[str, List[List[int]]]] = {}
    for ent in doc.ents:
        label.setdefault(ent.label_, {}).setdefault(ent.text, []).append([ent.start_char, ent.end_char - 1])
    return label


def doc_to_cluener_scores(doc: Doc, key: str) -> Dict[str, Dict[str, List[float]]]:
    """The score of each of doc.ents, shaped as `doc_to_cluener_label`:
    type -> entity text -> [score] in the same order as the offsets."""
    group = doc.spans[key] if key in doc.spans else None
    raw = group.attrs.get("scores") if group is not None else None
    by_span = {} if raw is None else {(s.start, s.end, s.label): float(v) for s, v in zip(group, raw)}
    scores: Dict[str, Dict[str, List[float]]] = {}
    for ent in doc.ents:
        value = by_span.get((ent.start, ent.end, ent.label))
        scores.setdefault(ent.label_, {}).setdefault(ent.text, []).append(
            None if value is None else round(value, 4)
        )
    return scores


def _count_records(path: Path) -> int:
    """Records in a regular file, for the progress bar."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as file_:
        return sum(1 for line in file_ if line.lstrip("\ufeff").strip())


def predict_file(
    nlp: Language, input_path: Path, output_path: Path, *, batch_size: int = 256,
    scores_key: Optional[str] = None, to: str = "cluener", uncertainty_first: bool = False,
    top: Optional[int] = None,
) -> Tuple[int, int]:
    """Write the submission for `input_path` to `output_path`, atomically: a
    temporary file next to it is renamed at the end, so a malformed line
    (MalformedRecord), any other error, Ctrl-C or SIGTERM leaves no partial
    submission. `input_path` may be a pipe (/dev/stdin): it is read once.
    The temporary file is a new `.OUT.XXXXXXXX.partial` each run
    (`atomic_open`): a fixed OUT.partial truncated an input of that name, and
    two runs into one OUT wrote into each other's.

    scores_key (Optional[str]): the `doc.spans` key of the entity scores, to
        add them to each line (`"scores"`); None writes the leaderboard format.
    to (str): "cluener", "label-studio" (a JSON list of tasks) or "doccano".
    uncertainty_first (bool): the most expected wrong tags first (needs
        scores_key; crf_ner's `expected_errors` on, else the lowest entity
        score first).
    top (Optional[int]): only the `top` most uncertain texts (implies it).
    RETURNS (Tuple[int, int]): records written, entities found.
    """
    # the progress bar's total takes a first read: a pipe (/dev/stdin, <(...)) can be read only once
    total = _count_records(input_path) if Path(input_path).is_file() else None
    version = model_version(nlp)
    ordered = uncertainty_first or top is not None
    held: List[Tuple[float, int, dict, int]] = []
    written = n_ents = 0
    with atomic_open(output_path, fsync=False) as out:
        records = read_cluener_texts(input_path, nlp.max_length)
        docs = nlp.pipe(records, as_tuples=True, batch_size=batch_size)
        if to == "label-studio":
            out.write("[\n")
        # disable=None: no bar when stderr is not a terminal (logs, tests)
        for i, (doc, record_id) in enumerate(tqdm(docs, total=total, unit="doc", disable=None)):
            entities = doc_entities(doc, scores_key) if to != "cluener" or ordered else None
            if to == "label-studio":
                line = label_studio_task(doc.text, record_id, entities, version)
            elif to == "doccano":
                line = doccano_record(doc.text, record_id, entities)
            else:
                line = {"id": record_id, "label": doc_to_cluener_label(doc)}
                if scores_key is not None:
                    line["scores"] = doc_to_cluener_scores(doc, scores_key)
            if ordered:
                held.append((least_sure_first(doc, scores_key, entities), i, line, len(doc.ents)))
            else:
                _write(out, line, to, written)
                written += 1
                n_ents += len(doc.ents)
        if ordered:
            held.sort(key=lambda item: (item[0], item[1]))
            for _score, _i, line, n in held[:top] if top is not None else held:
                _write(out, line, to, written)
                written += 1
                n_ents += n
        if to == "label-studio":
            out.write("\n]\n")
    return written, n_ents


def least_sure_first(doc: Doc, key: str, entities: List[Dict[str, Any]]) -> float:
    """A sort key, lowest = least sure: minus the doc's expected wrong tags
    (`doc.spans[key].attrs["expected_errors"]`), or, from a component that
    did not compute them, its lowest entity score."""
    group = doc.spans[key] if key in doc.spans else None
    errors = group.attrs.get("expected_errors") if group is not None else None
    if errors is not None:
        return -float(errors)
    return uncertainty_score(entities)


def _write(out, line: dict, to: str, index: int) -> None:
    if to == "label-studio":
        out.write(("" if index == 0 else ",\n") + json_line(line).rstrip("\n"))
    else:
        out.write(json_line(line))
