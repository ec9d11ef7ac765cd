"""The journal survives a driver killed mid-line; a listed shard counts only
if its file is there; a rerun with another plan is refused."""
import json

import pytest

from spacy_cluener.annotation import AnnotationError, plan_shards, resolve_inputs
from spacy_cluener.annotation.manifest import PLAN, PROGRESS, Progress, check_or_write_plan, lock_output_dir, make_plan

from ..util import write_jsonl

MODEL = {"lang": "zh", "name": "m", "version": "1.0.0", "digest": "abc"}


def entry(name, size=3):
    return {"shard": name, "file": f"{name}.jsonl", "records": 1, "rejected": [], "entities": 0, "chars": 1, "bytes": size}


def test_a_cut_last_line_is_dropped_and_the_journal_goes_on(tmp_path):
    progress = Progress(tmp_path)
    progress.record(entry("part-00000-000000"))
    with open(tmp_path / PROGRESS, "a", encoding="utf-8") as out:
        out.write('{"shard": "part-00000-000001", "fi')  # SIGKILL in the middle of a write
    again = Progress(tmp_path)
    assert list(again.entries) == ["part-00000-000000"]
    again.record(entry("part-00000-000002"))
    lines = (tmp_path / PROGRESS).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["shard"] for line in lines] == ["part-00000-000000", "part-00000-000002"]


def test_a_listed_shard_without_its_file_is_not_finished(tmp_path):
    shards = list(plan_shards(resolve_inputs([str(write_jsonl(tmp_path / "in.json", [{"text": "甲"}] * 3))]), 1))
    out = tmp_path / "out"
    out.mkdir()
    progress = Progress(out)
    for shard in shards:
        progress.record(entry(shard.name))
    (out / "part-00000-000000.jsonl").write_text("abc")
    (out / "part-00000-000001.jsonl").write_text("abcdef")  # not the size recorded
    done, notes = progress.finished(out, shards)
    assert list(done) == ["part-00000-000000"]
    assert len(notes) == 2 and "has 6 bytes, not 3" in notes[0] and "is missing" in notes[1]


def test_a_rerun_with_another_plan_is_refused(tmp_path):
    files = resolve_inputs([str(write_jsonl(tmp_path / "in.json", [{"text": "甲"}]))])
    out = tmp_path / "out"
    out.mkdir()
    assert check_or_write_plan(out, make_plan(MODEL, files, 10, "jsonl", 1)) is False
    assert check_or_write_plan(out, make_plan(MODEL, files, 10, "jsonl", 1)) is True
    for plan, what in [
        (make_plan(MODEL, files, 5, "jsonl", 1), "shard_size 10 then, 5 now"),
        (make_plan(MODEL, files, 10, "parquet", 1), "format 'jsonl' then, 'parquet' now"),
        (make_plan({**MODEL, "digest": "def"}, files, 10, "jsonl", 1), "model digest 'abc' then, 'def' now"),
    ]:
        with pytest.raises(AnnotationError, match=r"\[E026\]") as err:
            check_or_write_plan(out, plan)
        assert what in str(err.value)
    respelled = resolve_inputs([f"{tmp_path}/./in.json"])  # the same file, another name in the ids
    with pytest.raises(AnnotationError, match="name them as in the first run"):
        check_or_write_plan(out, make_plan(MODEL, respelled, 10, "jsonl", 1))
    write_jsonl(tmp_path / "in.json", [{"text": "甲乙"}])
    changed = resolve_inputs([str(tmp_path / "in.json")])
    with pytest.raises(AnnotationError, match="input files changed since"):
        check_or_write_plan(out, make_plan(MODEL, changed, 10, "jsonl", 1))
    assert json.loads((out / PLAN).read_text(encoding="utf-8"))["shard_size"] == 10


def test_one_run_per_directory(tmp_path):
    held = lock_output_dir(tmp_path)
    with pytest.raises(AnnotationError, match=r"\[E025\] Another annotate run"):
        lock_output_dir(tmp_path)
    held.close()
    lock_output_dir(tmp_path).close()
