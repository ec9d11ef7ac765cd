"""`predict --scores`: a parallel "scores" key; without it, the leaderboard format."""
import spacy
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.prediction import doc_to_cluener_label
from spacy_cluener.util import json_line

from ..util import read_jsonl, write_jsonl

RECORDS = [{"id": i, "text": t} for i, t in enumerate(["张三在上海工作", "王五是腾讯的工程师", "", "我爱北京天安门"])]


def run_predict(*args):
    return CliRunner().invoke(app, ["predict", *map(str, args)])


def test_scores_are_parallel_to_offsets(crf_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", RECORDS)
    out = tmp_path / "with_scores.json"
    result = run_predict(crf_model, inp, out, "--scores")
    assert result.exit_code == 0, result.output
    lines = read_jsonl(out)
    assert all(set(line) == {"id", "label", "scores"} for line in lines)
    n = 0
    for line in lines:
        assert set(line["scores"]) == set(line["label"])
        for label, mentions in line["label"].items():
            assert set(line["scores"][label]) == set(mentions)
            for entity, offsets in mentions.items():
                scores = line["scores"][label][entity]
                assert len(scores) == len(offsets) and all(0.0 <= s <= 1.0 for s in scores)
                n += len(scores)
    assert n > 0


def test_without_flag_the_format_is_unchanged(crf_model, ruler_model, tmp_path):
    inp = write_jsonl(tmp_path / "in.json", RECORDS)
    out = tmp_path / "plain.json"
    result = run_predict(crf_model, inp, out)
    assert result.exit_code == 0, result.output
    nlp = spacy.load(crf_model)
    expected = "".join(json_line({"id": r["id"], "label": doc_to_cluener_label(nlp(r["text"]))}) for r in RECORDS)
    assert out.read_bytes() == expected.encode("utf-8")
    # a pipeline without scores cannot give them: one line, exit 1, nothing written
    out2 = tmp_path / "ruler.json"
    result = run_predict(ruler_model, inp, out2, "--scores")
    assert result.exit_code == 1 and "no component" in result.output and not out2.exists()


def test_to_label_studio_and_doccano(crf_model, tmp_path):
    import json

    inp = write_jsonl(tmp_path / "in.json", RECORDS)
    result = run_predict(crf_model, inp, tmp_path / "ls.json", "--to", "label-studio")
    assert result.exit_code == 0, result.output
    tasks = json.loads((tmp_path / "ls.json").read_text(encoding="utf-8"))
    assert [t["data"]["text"] for t in tasks] == [r["text"] for r in RECORDS]
    assert [t["data"]["ref_id"] for t in tasks] == [r["id"] for r in RECORDS]
    n = 0
    for task in tasks:
        (prediction,) = task["predictions"]
        assert prediction["model_version"].startswith("zh_") and 0.0 <= prediction["score"] <= 1.0
        for item in prediction["result"]:
            value = item["value"]
            assert task["data"]["text"][value["start"]:value["end"]] == value["text"] and 0 <= item["score"] <= 1
            assert item["score"] >= prediction["score"] - 1e-4
            n += 1
    assert n > 0
    result = run_predict(crf_model, inp, tmp_path / "d.jsonl", "--to", "doccano")
    assert result.exit_code == 0, result.output
    lines = read_jsonl(tmp_path / "d.jsonl")
    assert [line["id"] for line in lines] == [r["id"] for r in RECORDS]
    assert all(len(line["label"]) == len(line["scores"]) for line in lines)
    assert all(line["text"][s:e] for line in lines for s, e, _ in line["label"])


def test_uncertainty_first_and_top(crf_model, tmp_path):
    """The most tags expected wrong first (crf_ner's expected_errors), ties
    in input order; --top N keeps the first N of that order."""
    from spacy_cluener.evaluation.confidence import enable_expected_errors

    records = RECORDS + [{"id": 10 + i, "text": t} for i, t in enumerate(["今天天气很好", "李四去了广州", "北京"])]
    inp = write_jsonl(tmp_path / "in.json", records)
    result = run_predict(crf_model, inp, tmp_path / "u.jsonl", "--to", "doccano", "--uncertainty-first")
    assert result.exit_code == 0, result.output
    lines = read_jsonl(tmp_path / "u.jsonl")
    nlp = spacy.load(crf_model)
    enable_expected_errors(nlp)
    errors = {r["id"]: nlp(r["text"]).spans["crf_ner"].attrs["expected_errors"] for r in records}
    assert len(set(errors.values())) > 3 and errors[2] == 0.0
    expected = sorted((r["id"] for r in records), key=lambda i: (-errors[i], [r["id"] for r in records].index(i)))
    assert [line["id"] for line in lines] == expected
    result = run_predict(crf_model, inp, tmp_path / "top.jsonl", "--to", "doccano", "--top", "2")
    assert result.exit_code == 0, result.output
    assert read_jsonl(tmp_path / "top.jsonl") == lines[:2]
    assert "Wrote 2 records" in result.output
