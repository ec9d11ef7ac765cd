"""Helpers shared by the tests: one small labelled corpus, record builders
and readers of what the commands write."""
import json
import math
from pathlib import Path
from typing import Iterable, List, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

# Four sentences with every entity type the small pipelines learn.
TRAIN_DATA = [
    ("张三在上海工作", [(0, 2, "name"), (3, 5, "address")]),
    ("李四去了广州", [(0, 2, "name"), (4, 6, "address")]),
    ("我爱北京天安门", [(2, 4, "address"), (4, 7, "scene")]),
    ("王五是腾讯的工程师", [(0, 2, "name"), (3, 5, "company"), (6, 9, "position")]),
]
LABELS = ("address", "company", "name", "position", "scene")


def ents(doc: Doc) -> List[Tuple[int, int, str]]:
    """(start_char, end_char, label) of each entity."""
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def make_examples(nlp: Language, data=TRAIN_DATA) -> List[Example]:
    return [Example.from_dict(nlp.make_doc(text), {"entities": gold}) for text, gold in data]


def rec(text: str, label=None, **extra) -> str:
    """One CLUENER line: `{"text": ..., "label": ...}` plus any extra keys."""
    record = {"text": text, **extra}
    if label is not None:
        record["label"] = label
    return json.dumps(record, ensure_ascii=False)


def write_jsonl(path: Path, records: Iterable[Union[str, dict]]) -> Path:
    """JSON lines; a str is written as it is (for malformed lines)."""
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


def read_jsonl(path: Path) -> List[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def spy_embed(model):
    """Record the doc lengths of every call to a tok2vec model's embed layer;
    returns (calls, restore)."""
    embed = model.get_ref("embed")
    calls = []
    forward = embed._func

    def recording(layer, docs, is_train):
        calls.append([len(doc) for doc in docs])
        return forward(layer, docs, is_train)

    embed._func = recording
    return calls, lambda: setattr(embed, "_func", forward)


def positive_finite(value) -> bool:
    """A figure a benchmark printed: a number (not a bool), finite, above 0."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and math.isfinite(value) and value > 0
