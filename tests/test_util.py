"""spacy_cluener.util: the atomic writer every command writes its files with."""
import os
import stat

import pytest

from spacy_cluener.util import atomic_open


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_atomic_output_has_the_umask_default_mode(tmp_path, umask):
    """mkstemp's temporary file is 0600; renamed as it was, a corpus written by
    `convert` was unreadable to the rest of a shared project (probe D9)."""
    previous = os.umask(umask)
    try:
        with atomic_open(tmp_path / "out.json") as out:
            out.write("{}\n")
        with open(tmp_path / "plain.json", "w") as out:
            out.write("{}\n")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "out.json").stat().st_mode)
    assert mode == 0o666 & ~umask == stat.S_IMODE((tmp_path / "plain.json").stat().st_mode)
