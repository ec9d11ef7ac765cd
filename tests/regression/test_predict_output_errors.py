"""predict's output: an unwritable directory is the real PermissionError in
one line (exit 1); SIGTERM mid-run leaves neither OUT nor its temporary file;
the temporary file is a new one each run, so an input named OUT.partial is
read, not truncated, and two runs into one OUT do not write into each other's."""
import os
import signal
import subprocess
import sys
import time

import pytest
import spacy
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.prediction import predict_file

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
    """The same without root's exemption: creating the temporary file raises."""
    inp = write_jsonl(tmp_path / "in.json", [{"text": "张三"}])
    out = tmp_path / "pred.json"
    real_open = os.open

    def deny(file, *args, **kwargs):
        if str(file).endswith(".partial"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    result = CliRunner().invoke(app, ["predict", str(ruler_model), str(inp), str(out)])
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    assert "Permission denied" in result.output and ".pred.json." in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


@pytest.mark.slow
def test_sigterm_mid_run_leaves_no_partial_file(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "big.json", [{"id": i, "text": "张三在腾讯工作，北京很大。" * 20} for i in range(60_000)])
    out = tmp_path / "pred.json"
    proc = subprocess.Popen([sys.executable, "-m", "spacy_cluener", "predict", str(ruler_model), str(inp), str(out),
                             "--batch-size", "64"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    deadline = time.time() + 120
    partials = []
    while time.time() < deadline and not (partials and partials[0].stat().st_size > 0):
        time.sleep(0.05)
        partials = list(tmp_path.glob(".pred.json.*.partial"))
    assert partials, "predict did not start writing"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0, "SIGTERM came after the end: make the input bigger"
    assert not partials[0].exists(), stderr.decode()[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json"]


def test_an_input_named_out_partial_is_read_not_truncated(ruler_model, tmp_path):
    """The temporary file was OUT.partial, opened "w": an input of that name
    was emptied, 0 records written, exit 0 (probe D2)."""
    inp = write_jsonl(tmp_path / "pred.json.partial", [{"id": 1, "text": "张三"}, {"id": 2, "text": "北京"}])
    before = inp.read_bytes()
    out = tmp_path / "pred.json"
    result = CliRunner().invoke(app, ["predict", str(ruler_model), str(inp), str(out)])
    assert result.exit_code == 0, result.output
    assert inp.read_bytes() == before
    assert read_jsonl(out) == [{"id": 1, "label": {"name": {"张三": [[0, 1]]}}},
                               {"id": 2, "label": {"address": {"北京": [[0, 1]]}}}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pred.json", "pred.json.partial"]


def test_two_runs_into_one_output_do_not_share_a_temporary_file(ruler_model, tmp_path):
    """A second predict into the same OUT, started and finished while the
    first runs, truncated and renamed the first's OUT.partial, and the first
    failed. Each run has its own now; the last to finish wins, complete."""
    first = write_jsonl(tmp_path / "first.json", [{"id": i, "text": "张三"} for i in range(5)])
    second = write_jsonl(tmp_path / "second.json", [{"id": "b", "text": "北京"}])
    out = tmp_path / "pred.json"
    nlp, other = spacy.load(ruler_model), spacy.load(ruler_model)
    pipe = nlp.pipe

    def pipe_with_another_run(*args, **kwargs):
        for i, item in enumerate(pipe(*args, **kwargs)):
            if i == 2:
                assert predict_file(other, second, out) == (1, 1)
                assert read_jsonl(out) == [{"id": "b", "label": {"address": {"北京": [[0, 1]]}}}]
            yield item

    nlp.pipe = pipe_with_another_run
    assert predict_file(nlp, first, out, batch_size=1) == (5, 5)
    assert read_jsonl(out) == [{"id": i, "label": {"name": {"张三": [[0, 1]]}}} for i in range(5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json", "pred.json", "second.json"]
