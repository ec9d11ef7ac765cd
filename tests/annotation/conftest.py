"""Shared by the annotation tests: a CLUENER slice, and what `nlp.pipe`
gives for it (the reference every engine's output must equal)."""
import json
from pathlib import Path
from typing import List

import pytest

from ..util import cluener_lines, pipe_reference

N_RECORDS = 2000


@pytest.fixture(scope="session")
def cluener_file(data_dir, tmp_path_factory) -> Path:
    """The first 2,000 CLUENER train records (no ids: FILE:LINE ids)."""
    path = tmp_path_factory.mktemp("cluener") / "train2000.json"
    path.write_text("\n".join(cluener_lines(data_dir, N_RECORDS)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def cluener_reference(crf_model, cluener_file) -> List[dict]:
    lines = cluener_file.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    return pipe_reference(crf_model, texts, [f"{cluener_file}:{n}" for n in range(1, len(texts) + 1)])


