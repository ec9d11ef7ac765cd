"""The report's confidence sections: threshold curve, target precision,
calibration (ECE), type confusion; absent without scores."""
import json

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.evaluation import analyse_examples, build_report
from spacy_cluener.evaluation.confidence import (
    ScoredEntity,
    calibration,
    threshold_curve,
    threshold_for_precision,
)

from ..util import TRAIN_DATA, make_example

CONFIDENCE_PNGS = ("threshold_curve.png", "reliability.png")


def _entities(pairs):
    return [ScoredEntity("x", score, correct) for score, correct in pairs]


def test_threshold_for_precision_is_the_lowest_that_reaches_it():
    ents = _entities([(0.99, True), (0.95, True), (0.9, False), (0.8, True), (0.8, True), (0.5, False), (0.2, False)])
    # >= 0.8 keeps 5 with 4 right: P 0.8; >= 0.95 keeps 2 right: P 1
    got = threshold_for_precision(ents, n_gold=6, target=0.8)
    assert got["threshold"] == 0.8 and got["kept"] == 5 and got["p"] == 0.8 and got["r"] == pytest.approx(4 / 6)
    got = threshold_for_precision(ents, n_gold=6, target=0.9)
    assert got["threshold"] == 0.95 and got["kept"] == 2 and got["r"] == pytest.approx(2 / 6)
    assert threshold_for_precision(_entities([(0.9, False)]), 1, 0.5)["threshold"] is None
    curve = threshold_curve(ents, 6, thresholds=(0.0, 0.85))
    assert [(r["kept"], r["tp"]) for r in curve] == [(7, 4), (3, 2)]


def test_ece_by_hand():
    # bin 0.9-1.0: scores 0.95, 0.95, both right -> |1 - 0.95| = 0.05, weight 1/2
    # bin 0.2-0.3: scores 0.25, 0.25, one right -> |0.5 - 0.25| = 0.25, weight 1/2
    ents = _entities([(0.95, True), (0.95, True), (0.25, True), (0.25, False)])
    calib = calibration(ents)
    assert calib["ece"] == pytest.approx(0.5 * 0.05 + 0.5 * 0.25)
    assert sum(b["n"] for b in calib["bins"]) == 4
    assert calibration(_entities([(1.0, True)]))["bins"][-1]["n"] == 1  # 1.0 is in the last bin


def test_type_confusion_counts_same_span_type_errors():
    nlp = spacy.blank("zh")
    eg = make_example(
        nlp, "张三在上海工作", [(0, 2, "name"), (3, 5, "address")], [(0, 2, "company"), (3, 5, "address")]
    )
    report = build_report(analyse_examples([eg]))
    assert report["type_confusion"]["counts"] == {"name": {"company": 1}}
    assert report["type_confusion"]["total"] == 1
    assert "confidence" not in report


def _gold_docbin(tmp_path, vocab):
    nlp = spacy.blank("zh")
    docs = []
    for text, spans in TRAIN_DATA + [("张三和李四在北京的腾讯", [(0, 2, "name"), (3, 5, "name")])]:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label) for s, e, label in spans]
        docs.append(doc)
    path = tmp_path / "gold.spacy"
    DocBin(docs=docs).to_disk(path)
    return path


def test_report_cli_with_crf_scores(crf_model, tmp_path):
    data = _gold_docbin(tmp_path, None)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", str(crf_model), str(data), "-o", str(out), "--target-precision", "0.8"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf8"))
    conf = report["confidence"]
    assert conf["spans_key"] == "crf_ner" and conf["n_entities"] > 0
    # t = 0 keeps every Viterbi entity: the report's own micro scores
    first = conf["threshold_curve"][0]
    assert first["threshold"] == 0.0 and first["p"] == pytest.approx(report["micro"]["p"])
    assert first["r"] == pytest.approx(report["micro"]["r"])
    assert conf["target"]["target_precision"] == 0.8
    assert 0.0 <= conf["calibration"]["overall"]["ece"] <= 1.0
    assert set(conf["calibration"]["per_type"]) <= {"address", "company", "name", "position", "scene"}
    for name in CONFIDENCE_PNGS + ("type_confusion.png",):
        assert (out / name).stat().st_size > 0
    markdown = (out / "report.md").read_text(encoding="utf8")
    assert "## Entity confidence" in markdown and "expected calibration error" in markdown
    assert "ECE" in result.output
    # --no-scores: scores off for the run, whatever the saved setting: no confidence sections
    out2 = tmp_path / "report2"
    result = CliRunner().invoke(app, ["report", str(crf_model), str(data), "-o", str(out2), "--no-scores"])
    assert result.exit_code == 0, result.output
    assert "confidence" not in json.loads((out2 / "report.json").read_text(encoding="utf8"))
    assert not any((out2 / name).exists() for name in CONFIDENCE_PNGS)


def test_report_no_scores_turns_a_saved_setting_off(crf_model, tmp_path):
    """--no-scores skips the confidence sections also for a pipeline saved
    with scores on (it used to keep the saved setting)."""
    nlp = spacy.load(crf_model)
    nlp.get_pipe("crf_ner").with_scores = True
    nlp.to_disk(tmp_path / "scored")
    data = _gold_docbin(tmp_path, None)
    result = CliRunner().invoke(app, ["report", str(tmp_path / "scored"), str(data), "-o", str(tmp_path / "r"),
                                      "--no-scores"])
    assert result.exit_code == 0, result.output
    assert "confidence" not in json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf8"))


def test_report_cli_without_scores_has_no_confidence(ruler_model, tmp_path):
    data = _gold_docbin(tmp_path, None)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", str(ruler_model), str(data), "-o", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf8"))
    assert "confidence" not in report and "type_confusion" in report
    assert not any((out / name).exists() for name in CONFIDENCE_PNGS)
    assert "## Entity confidence" not in (out / "report.md").read_text(encoding="utf8")
