import os
from pathlib import Path

import pytest
import spacy

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SPACY_CLUENER_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"


@pytest.fixture
def nlp():
    return spacy.blank("zh")


def cluener_slice(data_dir: Path, out_dir: Path, split: str, n: int) -> Path:
    """The first n records of CLUENER `split`, as JSON lines and as a DocBin
    (returned), for tests that train on a small real corpus."""
    from spacy_cluener.converters import convert_file

    lines = (data_dir / "cluener2020" / f"{split}.json").read_text(encoding="utf8").splitlines()[:n]
    (out_dir / f"{split}.json").write_text("\n".join(lines) + "\n", encoding="utf8")
    doc_bin, report = convert_file(out_dir / f"{split}.json", "cluener")
    assert report.written == n
    doc_bin.to_disk(out_dir / f"{split}.spacy")
    return out_dir / f"{split}.spacy"


@pytest.fixture(scope="session")
def data_dir():
    if not DATA.exists():
        pytest.skip(f"shared data not found at {DATA}")
    return DATA


RULER_PATTERNS = [
    {"label": "name", "pattern": "张三"},
    {"label": "company", "pattern": "腾讯"},
    {"label": "address", "pattern": "北京"},
]


@pytest.fixture(scope="session")
def ruler_model(tmp_path_factory):
    """A rule-based pipeline with known entities, for testing the CLIs."""
    nlp = spacy.blank("zh")
    nlp.add_pipe("entity_ruler").add_patterns(RULER_PATTERNS)
    path = tmp_path_factory.mktemp("ruler") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def crf_model(tmp_path_factory):
    """A small crf_ner pipeline, trained a little (scores spread out), saved
    with the default settings (scores off), for the confidence CLIs."""
    from thinc.api import fix_random_seed

    from .components.test_crf_ner import SMALL_MODEL
    from .util import make_examples

    fix_random_seed(0)
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL})
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(15):
        nlp.update(examples, sgd=optimizer)
    path = tmp_path_factory.mktemp("crf") / "model"
    nlp.to_disk(path)
    return path
