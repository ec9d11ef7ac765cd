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
