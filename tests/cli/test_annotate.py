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


def test_label_studio_and_doccano_shards_convert_back(crf_model, tmp_path):
    """annotate --format label-studio / doccano: the labelling tools' import
    formats, with scores; an accepted pre-annotation converts back (issue 26)."""
    from spacy_cluener.converters import convert_file

    texts = ["张三在上海工作", "王五是腾讯的工程师", "我爱北京天安门"]
    inp = write_jsonl(tmp_path / "in.json", [{"id": i, "text": t} for i, t in enumerate(texts)])
    for fmt in ("label-studio", "doccano"):
        out = tmp_path / fmt
        result = run(crf_model, inp, out, "--shard-size", 2, "--format", fmt)
        assert result.exit_code == 0, result.output
        rows = read_output(out)
        assert len(rows) == 3
        if fmt == "label-studio":
            assert len(list(out.glob("*.tasks.json"))) == 2
            assert [r["data"]["text"] for r in rows] == texts and [r["data"]["ref_id"] for r in rows] == ["0", "1", "2"]
            for row in rows:  # the annotator accepts the prediction
                row["annotations"] = [{"id": 1, "result": row["predictions"][0]["result"]}]
            export = tmp_path / "export.json"
            export.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        else:
            assert [r["text"] for r in rows] == texts and all(len(r["scores"]) == len(r["label"]) for r in rows)
            export = write_jsonl(tmp_path / "export.jsonl", rows)
        doc_bin, report = convert_file(export, "labelstudio" if fmt == "label-studio" else "doccano")
        assert report.written == 3 and not report.rejected
        import spacy

        nlp = spacy.load(crf_model)
        expected = [[(e.start_char, e.end_char, e.label_) for e in nlp(t).ents] for t in texts]
        got = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in doc_bin.get_docs(nlp.vocab)]
        assert got == expected and any(expected)
