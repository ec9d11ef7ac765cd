"""`annotate` from the command line: one line per problem, bad records
printed and counted without stopping the run, scores or null."""
import json

from typer.testing import CliRunner

from spacy_cluener.annotation import ray_engine as ray_engine_module
from spacy_cluener.annotation import read_output
from spacy_cluener.cli import app

from ..util import write_jsonl


def run(*args):
    return CliRunner().invoke(app, ["annotate", *map(str, args)])


def test_bad_records_are_printed_counted_and_skipped(crf_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"id": 1, "text": "张三在上海工作"}, '{"id": 2, "text": ', ["x"], {"text": "王五"}])
    out = tmp_path / "out"
    result = run(crf_model, inp, out, "--shard-size", 2)
    assert result.exit_code == 0, result.output
    assert f"{inp}:2: invalid JSON" in result.output and f"{inp}:3: record is not a JSON object" in result.output
    assert "2 records" in result.output and "2 rejected" in result.output and "in 2 shards" in result.output
    manifest = json.loads((out / "_SUCCESS").read_text(encoding="utf-8"))
    assert manifest["rejected"] == 2 and [s["rejected"] for s in manifest["shards"]] == [1, 1]
    assert [r["id"] for r in read_output(out)] == ["1", f"{inp}:4"]


def test_max_notes_caps_the_printed_rejections(crf_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", ["{", "{", "{", {"text": "好"}])
    result = run(crf_model, inp, tmp_path / "out", "--max-notes", 1)
    assert result.exit_code == 0, result.output
    assert result.output.count("invalid JSON") == 1 and "... 2 more lines" in result.output


def test_max_length_sets_nlp_max_length(ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"id": 0, "text": "张三" * 15}, {"id": 1, "text": "张" * 1_000_001}])
    default = run(ruler_model, inp, tmp_path / "a")
    assert default.exit_code == 0 and "1 records" in default.output and "1 rejected" in default.output
    assert f"{inp}:2: 'text' has 1000001 characters, more than nlp.max_length (1000000)" in default.output
    low = run(ruler_model, inp, tmp_path / "b", "--max-length", 10, "--max-rejected", 2)
    assert low.exit_code == 0 and "0 records" in low.output and "2 rejected" in low.output
    short = write_jsonl(tmp_path / "short.json", [{"id": 0, "text": "张三" * 15}])
    high = run(ruler_model, short, tmp_path / "c", "--max-length", 30)
    assert high.exit_code == 0 and "1 records" in high.output and "0 rejected" in high.output


def test_scores_are_null_without_a_scoring_component(ruler_model, crf_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", [{"id": 0, "text": "张三在腾讯工作"}])
    assert run(ruler_model, inp, tmp_path / "ruler").exit_code == 0
    rows = read_output(tmp_path / "ruler")
    assert rows == [{"id": "0", "entities": [
        {"start": 0, "end": 2, "label": "name", "text": "张三", "score": None},
        {"start": 3, "end": 5, "label": "company", "text": "腾讯", "score": None},
    ]}]
    assert run(crf_model, inp, tmp_path / "crf", "--no-scores").exit_code == 0
    assert all(e["score"] is None for e in read_output(tmp_path / "crf")[0]["entities"])


def test_one_line_errors(crf_model, tmp_path, monkeypatch):
    inp = write_jsonl(tmp_path / "in.json", [{"text": "张三"}])
    cases = [
        ((crf_model, inp), 2, "Give at least one INPUT and then OUTPUT_DIR"),
        ((tmp_path / "no-model", inp, tmp_path / "o1"), 1, "[E028] Cannot find the pipeline"),
        ((crf_model, tmp_path / "*.jsonl", tmp_path / "o2"), 1, "[E021] No input file matches"),
        ((crf_model, inp, tmp_path / "o3", "--workers", 2), 1, "[E030]"),
    ]
    for args, code, message in cases:
        result = run(*args)
        assert result.exit_code == code and message in result.output, result.output
        assert "Traceback" not in result.output
    monkeypatch.setattr(ray_engine_module, "ray", None)  # as without the [ray] extra
    result = run(crf_model, inp, tmp_path / "o4", "--engine", "ray")
    assert result.exit_code == 1 and "[E034] --engine ray needs Ray Data" in result.output
