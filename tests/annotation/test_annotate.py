"""`annotate` on the local engine: equal to nlp.pipe, resumable, exactly
once when the driver is killed (SIGKILL) and rerun."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spacy_cluener.annotation import AnnotationError, annotate
from spacy_cluener.annotation.manifest import PLAN, PROGRESS, SUCCESS, remove_partials
from spacy_cluener.cli import app
from spacy_cluener.errors import Errors

from ..util import assert_exactly_once, pipe_reference, prefix_file, shard_stats, write_jsonl

KILL_DRIVER = Path(__file__).with_name("kill_driver.py")


def test_local_engine_equals_nlp_pipe(crf_model, cluener_file, cluener_reference, tmp_path):
    """(The Ray tests check all 2,000 records; here the first 700.)"""
    inp, expected = prefix_file(cluener_file, cluener_reference, tmp_path / "in.json", 700)
    out = tmp_path / "out"
    result = annotate(str(crf_model), [str(inp)], out, shard_size=300)
    manifest = assert_exactly_once(out, expected)
    assert result.annotated == result.shards == 3 and result.skipped == 0
    assert manifest["model"]["lang"] == "zh" and manifest["model"]["version"] == "0.0.0"
    assert manifest["rejected"] == 0 and [s["records"] for s in manifest["shards"]] == [300, 300, 100]
    assert manifest["entities"] == sum(len(r["entities"]) for r in expected) > 0
    assert all(0.0 <= e["score"] <= 1.0 for r in expected for e in r["entities"])
    # a rerun finds everything done and rewrites nothing
    before = shard_stats(out)
    again = annotate(str(crf_model), [str(inp)], out, shard_size=300)
    assert again.annotated == 0 and again.skipped == 3 and shard_stats(out) == before


def test_rerun_with_other_settings_is_refused(crf_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"id": 1, "text": "张三在上海工作"}])
    out = tmp_path / "out"
    annotate(str(crf_model), [str(inp)], out, shard_size=10)
    with pytest.raises(AnnotationError, match="shard_size 10 then, 20 now"):
        annotate(str(crf_model), [str(inp)], out, shard_size=20)


def test_a_missing_finished_shard_is_annotated_again(crf_model, tmp_path):
    records = [{"id": i, "text": t} for i, t in enumerate(["张三在上海工作", "王五是腾讯的工程师", "我爱北京天安门"] * 4)]
    inp = write_jsonl(tmp_path / "in.json", records)
    out = tmp_path / "out"
    annotate(str(crf_model), [str(inp)], out, shard_size=5)
    expected = pipe_reference(crf_model, [r["text"] for r in records], [r["id"] for r in records])
    (out / "part-00000-000001.jsonl").unlink()
    kept = shard_stats(out)
    result = annotate(str(crf_model), [str(inp)], out, shard_size=5)
    assert result.annotated == 1 and "part-00000-000001.jsonl" in result.notes[0]
    assert {k: v for k, v in shard_stats(out).items() if k in kept} == kept
    assert_exactly_once(out, expected)


@pytest.mark.slow
def test_killed_driver_rerun_finishes_without_rewriting(crf_model, cluener_file, cluener_reference, tmp_path):
    """SIGKILL the driver at its 3rd shard (written, not yet recorded), rerun
    the same command: the missing shards are written, the 2 recorded ones
    are not touched, every id is there once."""
    inp, expected = prefix_file(cluener_file, cluener_reference, tmp_path / "in.json", 400)
    out = tmp_path / "out"
    args = ["annotate", str(crf_model), str(inp), str(out), "--shard-size", "50"]
    killed = subprocess.run([sys.executable, str(KILL_DRIVER), "3", *args], capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr
    recorded = [json.loads(line)["file"] for line in (out / PROGRESS).read_text(encoding="utf-8").splitlines()]
    assert len(recorded) == 2 and not (out / SUCCESS).exists()
    assert (out / "part-00000-000002.jsonl").exists()  # written by the worker, not recorded
    before = shard_stats(out)
    rerun = CliRunner().invoke(app, args)  # in this process: no second start-up to pay
    assert rerun.exit_code == 0, rerun.output
    assert "(6 annotated now, 2 finished before)" in rerun.output
    after = shard_stats(out)
    assert all(after[name] == before[name] for name in recorded)
    assert after["part-00000-000002.jsonl"] != before["part-00000-000002.jsonl"]  # not recorded: written again
    assert_exactly_once(out, expected)


def test_local_engine_takes_no_workers(crf_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"text": "张三"}])
    with pytest.raises(AnnotationError, match=r"\[E030\]"):
        annotate(str(crf_model), [str(inp)], tmp_path / "out", workers=2)


def test_input_inside_the_output_directory_is_refused(crf_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"text": "张三"}])
    with pytest.raises(AnnotationError, match=r"\[E031\]"):
        annotate(str(crf_model), [str(inp)], tmp_path)


def test_a_directory_that_is_not_a_run_is_refused_untouched(crf_model, tmp_path):
    """Issue 24 #1: a user's `.backup.partial`, part file and `_SUCCESS` in
    OUTPUT_DIR were deleted or overwritten (exit 0)."""
    inp = write_jsonl(tmp_path / "in.json", [{"id": 1, "text": "张三在上海工作"}])
    out = tmp_path / "out"
    out.mkdir()
    mine = {".backup.partial": "b", ".draft.jsonl.partial": "d", "part-00000-000000.jsonl": "p", SUCCESS: "s"}
    for name, text in mine.items():
        (out / name).write_text(text, encoding="utf8")
    with pytest.raises(AnnotationError, match=r"E053\].*no _plan.json"):
        annotate(str(crf_model), [str(inp)], out, shard_size=10)
    assert {p.name: p.read_text(encoding="utf8") for p in out.iterdir() if p.name in mine} == mine
    assert not (out / PLAN).exists()


def test_only_its_own_temporary_files_are_removed(tmp_path):
    own = [".part-00000-000000.jsonl.0123456789ab.partial", "._plan.json.partial", "._SUCCESS.partial"]
    users = [".backup.partial", ".draft.jsonl.partial", ".part-00000-000000.jsonl.partial"]
    for name in own + users:
        (tmp_path / name).write_text("x", encoding="utf8")
    assert remove_partials(tmp_path) == len(own)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(users)


@pytest.mark.parametrize("change,message", [({"scores": False}, "'scores': False"),
                                            ({"max_length": 30}, "'max_length': 30}")])
def test_a_rerun_with_other_output_settings_is_refused(crf_model, tmp_path, change, message):
    """Issue 24 #2: a rerun with --no-scores or --max-length mixed settings across shards."""
    inp = write_jsonl(tmp_path / "in.json", [{"id": 1, "text": "张三在上海工作"}])
    out = tmp_path / "out"
    annotate(str(crf_model), [str(inp)], out, shard_size=10)
    with pytest.raises(AnnotationError, match=r"E026.*settings .* then, .*" + re.escape(message) + ".* now"):
        annotate(str(crf_model), [str(inp)], out, shard_size=10, **change)


def test_a_failed_start_writes_nothing(crf_model, tmp_path, monkeypatch):
    """Issue 24 #12: --engine ray without Ray, Parquet without pyarrow wrote
    _plan.json first, so the next run with other settings was refused."""
    annotate_module = sys.modules["spacy_cluener.annotation.annotate"]  # (the package exports the function)
    inp = write_jsonl(tmp_path / "in.json", [{"id": 1, "text": "张三在上海工作"}])
    out = tmp_path / "out"
    monkeypatch.setattr(annotate_module, "find_spec", lambda name: None)
    with pytest.raises(AnnotationError, match="E034"):
        annotate(str(crf_model), [str(inp)], out, engine="ray")
    monkeypatch.setattr(annotate_module, "parquet_module", _no_pyarrow)
    with pytest.raises(AnnotationError, match="E024"):
        annotate(str(crf_model), [str(inp)], out, fmt="parquet")
    assert not out.exists() or not any(out.iterdir())
    annotate(str(crf_model), [str(inp)], out, shard_size=10)  # the next run starts cleanly


def _no_pyarrow(*_):
    raise AnnotationError(Errors.E024)


def test_resume_with_the_output_directory_under_a_recursive_glob(crf_model, tmp_path, monkeypatch):
    """Issue 24 #13: `annotate M 'data/**/*.jsonl' data/annotated` twice: the
    second run read its own `_progress.jsonl` and part files as inputs (E031)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    write_jsonl(tmp_path / "data" / "a.jsonl", [{"id": 1, "text": "张三在上海工作"}])
    first = annotate(str(crf_model), ["data/**/*.jsonl"], Path("data/annotated"), shard_size=10)
    again = annotate(str(crf_model), ["data/**/*.jsonl"], Path("data/annotated"), shard_size=10)
    assert first.annotated == 1 and again.annotated == 0 and again.skipped == 1
