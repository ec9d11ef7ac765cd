"""Issue 24 #16: a run in which every record is rejected (a GBK or UTF-16
file) used to exit 0 with a `_SUCCESS`; `--max-rejected N` bounds the rest."""
import json

from typer.testing import CliRunner

from spacy_cluener.cli import app

from ..util import write_jsonl


def run(*args):
    return CliRunner().invoke(app, ["annotate", *map(str, args)])


def test_every_record_rejected_fails_without_success(ruler_model, tmp_path):
    inp = tmp_path / "utf16.jsonl"
    inp.write_bytes('{"id": 1, "text": "张三"}\n{"id": 2, "text": "李四"}\n'.encode("utf-16"))
    out = tmp_path / "out"
    result = run(ruler_model, inp, out)
    assert result.exit_code == 1
    assert "[E056] every one of the 3 records was rejected" in result.output  # 3 lines in UTF-16
    assert not (out / "_SUCCESS").exists()
    # the finished shards stay: accepting the empty result only writes the manifest
    accepted = run(ruler_model, inp, out, "--max-rejected", 3)
    assert accepted.exit_code == 0, accepted.output
    assert "0 records" in accepted.output and "0 annotated now, 1 finished before" in accepted.output
    assert json.loads((out / "_SUCCESS").read_text(encoding="utf-8"))["rejected"] == 3


def test_max_rejected(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"text": "张三"}, "{", "{", {"text": "李四"}])
    over = run(ruler_model, inp, tmp_path / "a", "--max-rejected", 1)
    assert over.exit_code == 1
    assert "[E055] 2 of 4 records were rejected, more than --max-rejected 1" in over.output
    assert f"(first: {inp}:2: invalid JSON" in over.output
    assert not (tmp_path / "a" / "_SUCCESS").exists()
    assert run(ruler_model, inp, tmp_path / "b", "--max-rejected", 2).exit_code == 0
    assert run(ruler_model, inp, tmp_path / "c").exit_code == 0  # no limit: some records are fine
