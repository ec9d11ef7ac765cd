"""predict's output: an unwritable directory is the real PermissionError in
one line (exit 1); SIGTERM mid-run leaves neither OUT nor OUT.partial; a stale
OUT.partial from a SIGKILL is replaced by the next run."""
import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from spacy_cluener.cli import app

from ..util import read_jsonl, write_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_directory_is_one_line(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"text": "张三"}])
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = subprocess.run([sys.executable, "-m", "spacy_cluener", "predict", str(ruler_model), str(inp),
                               str(locked / "pred.json")], capture_output=True, text=True, env=env(), timeout=300)
    finally:
        locked.chmod(0o700)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Permission denied" in proc.stderr and "pred.json" in proc.stderr
    assert list(locked.iterdir()) == []


def test_unwritable_output_is_the_real_error_in_process(ruler_model, tmp_path, monkeypatch):
    """The same without root's exemption: open() of OUT.partial raises."""
    import builtins

    inp = write_jsonl(tmp_path / "in.json", [{"text": "张三"}])
    out = tmp_path / "pred.json"
    real_open = builtins.open

    def deny(file, *args, **kwargs):
        if str(file).endswith(".partial"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    result = CliRunner().invoke(app, ["predict", str(ruler_model), str(inp), str(out)])
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    assert "Permission denied" in result.output and "pred.json.partial" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


@pytest.mark.slow
def test_sigterm_mid_run_leaves_no_partial_file(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "big.json", [{"id": i, "text": "张三在腾讯工作，北京很大。" * 20} for i in range(60_000)])
    out = tmp_path / "pred.json"
    partial = tmp_path / "pred.json.partial"
    proc = subprocess.Popen([sys.executable, "-m", "spacy_cluener", "predict", str(ruler_model), str(inp), str(out),
                             "--batch-size", "64"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    deadline = time.time() + 120
    while time.time() < deadline and not (partial.exists() and partial.stat().st_size > 0):
        time.sleep(0.05)
    assert partial.exists(), "predict did not start writing"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0, "SIGTERM came after the end: make the input bigger"
    assert not partial.exists(), stderr.decode()[-2000:]
    assert not out.exists()


def test_stale_partial_from_sigkill_is_replaced(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"id": 1, "text": "张三"}])
    out = tmp_path / "pred.json"
    (tmp_path / "pred.json.partial").write_text('{"id": 99, "label": {}}\n{"id": 100, "la', encoding="utf-8")
    result = CliRunner().invoke(app, ["predict", str(ruler_model), str(inp), str(out)])
    assert result.exit_code == 0, result.output
    assert read_jsonl(out) == [{"id": 1, "label": {"name": {"张三": [[0, 1]]}}}]
    assert not (tmp_path / "pred.json.partial").exists()
