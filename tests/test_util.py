"""spacy_cluener.util: the atomic writer every command writes its files
with, and the strict JSON lines of its outputs."""
import json
import math
import os
import signal
import stat
import subprocess
import sys

import pytest

from spacy_cluener.util import atomic_open, json_line

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A writer that gets SIGTERM halfway through its output, as `convert` did
# while serialising a large DocBin (`timeout -s TERM`, a job scheduler).
SIGTERMED_WRITER = """
import os, signal, sys
from spacy_cluener.util import atomic_open, json_line
with atomic_open(sys.argv[1], "wb") as out:
    out.write(b"half a corpus")
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(10_000_000):  # the handler runs between two bytecodes
        pass
    out.write(b" and the rest")
"""


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


def test_sigterm_removes_the_temporary_file(tmp_path):
    """SIGTERM during `convert` left a hidden `.OUT.XXXX.partial` behind that
    nothing removed: only `predict` turned SIGTERM into a cleanup (probe D10)."""
    (tmp_path / "corpus.spacy").write_bytes(b"the previous corpus")
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", SIGTERMED_WRITER, str(tmp_path / "corpus.spacy")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.spacy"]
    assert (tmp_path / "corpus.spacy").read_bytes() == b"the previous corpus"


def test_a_programs_own_sigterm_handling_is_kept(tmp_path):
    """Only SIGTERM's default action becomes SystemExit: SIG_IGN (or a
    handler such as Ray's) stays in force inside the block and after it."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with atomic_open(tmp_path / "out.json") as out:
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
            out.write("{}\n")
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)
    with atomic_open(tmp_path / "out.json") as out:
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_json_line_is_strict_json():
    assert json.loads(json_line({"id": 1.5, "text": "张三\u2028"})) == {"id": 1.5, "text": "张三\u2028"}
    # NaN/Infinity are not JSON: Label Studio's JSON.parse refuses them
    for value in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError):
            json_line({"id": value})
