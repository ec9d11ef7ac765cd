"""`predict` end to end on an entity_ruler pipeline: ids, order, offsets, errors."""
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from spacy_cluener.cli import app

from ..util import read_jsonl, write_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_predict(*args):
    return CliRunner().invoke(app, ["predict", *map(str, args)])


def test_predict_writes_submission_in_input_order(ruler_model, tmp_path):
    records = [
        {"id": 7, "text": "张三在腾讯工作，张三很忙"},
        {"id": 3, "text": "今天天气 不错"},
        {"id": 11, "text": "我 在北京 见了 腾讯 的张三"},
        {"id": 0, "text": "北京北京"},
        {"id": 5, "text": "没有"},
    ]
    inp = write_jsonl(tmp_path / "test.json", records)
    out = tmp_path / "sub" / "pred.json"
    result = run_predict(ruler_model, inp, out, "--batch-size", 2)
    assert result.exit_code == 0, result.output
    lines = read_jsonl(out)
    assert [line["id"] for line in lines] == [7, 3, 11, 0, 5]
    assert all(set(line) == {"id", "label"} for line in lines)
    assert lines[0]["label"] == {"name": {"张三": [[0, 1], [8, 9]]}, "company": {"腾讯": [[3, 4]]}}
    assert lines[1]["label"] == {} and lines[4]["label"] == {}
    assert lines[3]["label"] == {"address": {"北京": [[0, 1], [2, 3]]}}
    found = 0
    for record, line in zip(records, lines):
        for mentions in line["label"].values():
            for entity, offsets in mentions.items():
                for start, end in offsets:
                    assert record["text"][start : end + 1] == entity
                    found += 1
    assert found == 3 + 3 + 2
    assert "Wrote 5 records (8 entities)" in result.output
    assert not list(out.parent.glob("*.partial"))


def test_ids_default_to_file_and_line(ruler_model, tmp_path):
    """Issue 24 #15: a record without an id (absent or null) gets FILE:LINE,
    the 1-based line (blank lines count), as in annotate; numbers stay numbers."""
    inp = tmp_path / "no_ids.json"
    inp.write_text('{"text": "张三"}\n\n{"text": "腾讯"}\n{"id": "x", "text": "北京"}\n'
                   '{"id": null, "text": "北京"}\n{"id": 7, "text": "北京"}\n', encoding="utf-8")
    out = tmp_path / "pred.json"
    result = run_predict(ruler_model, inp, out)
    assert result.exit_code == 0, result.output
    lines = read_jsonl(out)
    assert [line["id"] for line in lines] == [f"{inp}:1", f"{inp}:3", "x", f"{inp}:5", 7]
    assert lines[1]["label"] == {"company": {"腾讯": [[0, 1]]}}


@pytest.mark.parametrize(
    "bad_line,reason",
    [
        ('{"id": 1, "text": "张三"', "invalid JSON"),
        ('["张三"]', "not a JSON object"),
        ('{"id": 1, "txt": "张三"}', "missing 'text'"),
        ("[" * 100_000, "invalid JSON (nested too deeply)"),
    ],
)
def test_malformed_line_names_file_and_line(ruler_model, tmp_path, bad_line, reason):
    good = {"id": 0, "text": "张三在腾讯"}
    inp = write_jsonl(tmp_path / "bad.json", [good, good, bad_line, good])
    out = tmp_path / "pred.json"
    result = run_predict(ruler_model, inp, out, "--batch-size", 1)
    assert result.exit_code == 1
    assert f"{inp}:3: " in result.output and reason in result.output
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_real_test_file_ids(ruler_model, tmp_path, data_dir):
    """The CLUENER test file: one output line per record, ids 0..1344 in order."""
    inp = data_dir / "cluener2020" / "test.json"
    out = tmp_path / "cluener_predict.json"
    result = run_predict(ruler_model, inp, out)
    assert result.exit_code == 0, result.output
    texts = [json.loads(line)["text"] for line in inp.read_text(encoding="utf-8").splitlines()]
    lines = read_jsonl(out)
    assert [line["id"] for line in lines] == list(range(len(texts))) == list(range(1345))
    for text, line in zip(texts, lines):
        for mentions in line["label"].values():
            for entity, offsets in mentions.items():
                assert all(text[start : end + 1] == entity for start, end in offsets)


def test_json_lines_output_has_no_raw_line_separators():
    from spacy_cluener.util import json_line

    record = {"id": 0, "label": {"name": {"张\x85三\u2028\u2029": [[0, 4]]}}}
    line = json_line(record)
    assert len(line.splitlines()) == 1
    assert json.loads(line) == record
    assert "张" in line  # Chinese stays readable


def test_a_bom_at_the_start_of_a_later_line_is_accepted(ruler_model, tmp_path):
    """`cat a.json b.json` with b.json saved with a BOM: convert and annotate
    read both records, predict stopped at FILE:2 'Unexpected UTF-8 BOM' (probe D5)."""
    inp = tmp_path / "cat.json"
    inp.write_bytes('{"id": 1, "text": "张三"}\n\ufeff{"id": 2, "text": "北京"}\n\ufeff\n'.encode("utf-8"))
    out = tmp_path / "pred.json"
    result = run_predict(ruler_model, inp, out)
    assert result.exit_code == 0, result.output
    assert read_jsonl(out) == [{"id": 1, "label": {"name": {"张三": [[0, 1]]}}},
                               {"id": 2, "label": {"address": {"北京": [[0, 1]]}}}]


def test_predict_reads_a_pipe(ruler_model, tmp_path):
    """`cat test.json | predict MODEL /dev/stdin OUT`: the progress bar's
    count read the pipe to its end, the records were then read from the
    empty pipe, and 0 records were written with exit 0 (probe D1)."""
    records = [{"id": i, "text": text} for i, text in enumerate(["张三", "北京", "没有", "腾讯"])]
    out = tmp_path / "pred.json"
    proc = subprocess.run(
        [sys.executable, "-m", "spacy_cluener", "predict", str(ruler_model), "/dev/stdin", str(out)],
        input="".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), capture_output=True,
        text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": REPO},
    )
    assert proc.returncode == 0, proc.stderr
    assert [line["id"] for line in read_jsonl(out)] == [0, 1, 2, 3]
    assert read_jsonl(out)[1]["label"] == {"address": {"北京": [[0, 1]]}}
