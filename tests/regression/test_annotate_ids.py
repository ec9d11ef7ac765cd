"""Issue 24 #7 and #8: annotate's ids are one type (strings), so its output
reads as one dataset, and records that end up with the same id are noted
(on stderr and in the manifest), as `convert` notes duplicate ids."""
import json

import pytest
from typer.testing import CliRunner

from spacy_cluener.annotation import read_output
from spacy_cluener.cli import app

from ..util import write_jsonl


def run(*args):
    return CliRunner().invoke(app, ["annotate", *map(str, args)])


def test_ids_are_strings_and_collisions_are_noted(ruler_model, tmp_path):
    inp = tmp_path / "ids.jsonl"
    records = [{"id": 1, "text": "张三"}, {"id": 1, "text": "李四"}, {"id": "1", "text": "王五"},
               {"id": 1.0, "text": "赵六"}, {"id": True, "text": "腾讯"}, {"text": "北京"},
               {"id": f"{inp}:6", "text": "上海"}]
    write_jsonl(inp, records)
    out = tmp_path / "out"
    result = run(ruler_model, inp, out, "--shard-size", 3)
    assert result.exit_code == 0, result.output
    ids = [row["id"] for row in read_output(out)]
    assert ids == ["1", "1", "1", "1.0", "true", f"{inp}:6", f"{inp}:6"]
    expected = [f'{inp}:2: id "1" was already used on {inp}:1', f'{inp}:3: id "1" was already used on {inp}:1',
                f'{inp}:7: id "{inp}:6" was already used on {inp}:6']
    manifest = json.loads((out / "_SUCCESS").read_text(encoding="utf-8"))
    assert manifest["id_collisions"] == expected
    assert all(line in result.output for line in expected)
    assert "3 ids already used" in result.output


def test_no_collision_no_note(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": i, "text": "张三"} for i in range(5)] + [{"text": "李四"}])
    result = run(ruler_model, inp, tmp_path / "out", "--shard-size", 2)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / "_SUCCESS").read_text(encoding="utf-8"))["id_collisions"] == []
    assert "already used" not in result.output


def test_mixed_ids_read_as_one_pyarrow_dataset(ruler_model, tmp_path):
    """The README's glob over CLUENER's train (numeric-less) and test (integer
    ids) files mixed FILE:LINE strings with integers: pyarrow refused it."""
    ds = pytest.importorskip("pyarrow.dataset")
    write_jsonl(tmp_path / "a.jsonl", [{"text": "张三在北京"}, {"text": "李四"}])
    write_jsonl(tmp_path / "b.jsonl", [{"id": 0, "text": "腾讯"}, {"id": 1, "text": "上海"}])
    out = tmp_path / "out"
    assert run(ruler_model, str(tmp_path / "*.jsonl"), out, "--shard-size", 1).exit_code == 0
    table = ds.dataset(str(out), format="json").to_table()
    assert str(table.schema.field("id").type) == "string"
    assert sorted(table.column("id").to_pylist()) == sorted([f"{tmp_path}/a.jsonl:1", f"{tmp_path}/a.jsonl:2", "0", "1"])
