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
