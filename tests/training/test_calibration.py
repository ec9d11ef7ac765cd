"""`calibrate`: a temperature and per-type monotone maps fitted on one half of
a gold corpus, stored in crf_ner's cfg, measured on the other half."""
import hashlib
import json

import numpy
import pytest
import spacy
import srsly
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.components.score_maps import apply_map, fit_isotonic, fit_platt
from spacy_cluener.training import calibration as calibration_module
from spacy_cluener.training.calibration import calibrate, choose_maps, split_halves
from spacy_cluener.evaluation.confidence import ScoredEntity

from ..util import TRAIN_DATA, train_small_crf

runner = CliRunner()

# More gold docs than TRAIN_DATA, with the same types: enough entities for a
# fit half and a held-out half.
GOLD = TRAIN_DATA + [
    ("张三和李四在北京", [(0, 2, "name"), (3, 5, "name"), (6, 8, "address")]),
    ("王五去了腾讯", [(0, 2, "name"), (4, 6, "company")]),
    ("李四是上海的工程师", [(0, 2, "name"), (3, 5, "address"), (6, 9, "position")]),
    ("我在广州天安门", [(2, 4, "address"), (4, 7, "scene")]),
    ("腾讯的张三", [(0, 2, "company"), (3, 5, "name")]),
    ("王五在北京工作", [(0, 2, "name"), (3, 5, "address")]),
] * 3


def _tree_digest(path):
    digest = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            digest.update(str(p.relative_to(path)).encode())
            digest.update(p.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def model_and_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibrate")
    nlp = train_small_crf(12)
    nlp.to_disk(root / "model")
    docs = []
    for text, spans in GOLD:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label) for s, e, label in spans]
        docs.append(doc)
    DocBin(docs=docs).to_disk(root / "dev.spacy")
    return root / "model", root / "dev.spacy"


def test_maps_are_monotone_and_fit_their_data():
    rng = numpy.random.default_rng(0)
    scores = rng.random(400)
    # over-confident: right with probability score ** 2
    correct = rng.random(400) < scores ** 2
    grid = numpy.linspace(0, 1, 101)
    for fitted in (fit_platt(scores, correct), fit_isotonic(scores, correct)):
        mapped = apply_map(fitted, grid)
        assert (numpy.diff(mapped) >= -1e-12).all()
        assert ((mapped >= 0) & (mapped <= 1)).all()
        # lower than the over-confident scores in the middle
        assert apply_map(fitted, numpy.array([0.6]))[0] < 0.55
        json.dumps(fitted)  # stored in cfg: JSON-ready
    assert (apply_map(None, grid) == grid).all()
    with pytest.raises(ValueError):
        apply_map({"method": "spline"}, grid)


def test_choose_maps_only_where_it_pays():
    rng = numpy.random.default_rng(1)
    calibrated = [ScoredEntity("good", float(s), bool(rng.random() < s)) for s in rng.random(300)]
    over = [ScoredEntity("over", float(s), bool(rng.random() < s ** 3)) for s in rng.random(300)]
    few = [ScoredEntity("few", 0.9, False) for _ in range(5)]
    maps, choices = choose_maps(calibrated + over + few, seed=0, min_entities=40, methods=("platt", "isotonic"))
    assert "over" in maps and "few" not in maps
    assert choices["few"]["method"] is None and choices["over"]["method"] in ("platt", "isotonic")
    assert choices["good"]["cv_brier"]["none"] > 0


def test_split_halves_is_seeded_disjoint_and_complete():
    fit, held = split_halves(11, 0)
    assert sorted(fit + held) == list(range(11)) and len(fit) == 6 and not set(fit) & set(held)
    assert split_halves(11, 0) == (fit, held) and split_halves(11, 1) != (fit, held)


def test_calibrate_writes_a_calibrated_copy(model_and_data, tmp_path):
    model, data = model_and_data
    before = _tree_digest(model)
    result = calibrate(str(model), data, tmp_path / "out", seed=0, min_entities=2)
    assert _tree_digest(model) == before  # the input is never written
    cfg = srsly.read_json(tmp_path / "out" / "crf_ner" / "cfg")
    cal = cfg["calibration"]
    assert cal["fit"]["heldout_docs"] == split_halves(len(GOLD), 0)[1]
    assert cal["fit"]["data_sha256"] == result["data_sha256"]
    assert cfg["temperature"] == pytest.approx(result["temperature"]["temperature"])
    assert all(m["method"] == "platt" for m in cal["per_type"].values())  # the default: Platt only
    assert result["split"]["heldout_docs"] + result["split"]["fit_docs"] == len(GOLD)
    for half in ("heldout_before", "heldout_after"):
        assert 0 <= result[half]["ece"] <= 1 and result[half]["n_entities"] > 0
    # the maps are applied when the calibrated pipeline computes scores; doc.ents unchanged
    raw, calibrated = spacy.load(model), spacy.load(tmp_path / "out")
    for nlp in (raw, calibrated):
        nlp.get_pipe("crf_ner").with_scores = True
    texts = [t for t, _ in GOLD[:10]]
    a, b = list(raw.pipe(texts)), list(calibrated.pipe(texts))
    assert [d.ents for d in a] == [d.ents for d in b] or [
        [(e.start, e.end, e.label_) for e in d.ents] for d in a] == [[(e.start, e.end, e.label_) for e in d.ents] for d in b]
    sa = numpy.concatenate([d.spans["crf_ner"].attrs["scores"] for d in a])
    sb = numpy.concatenate([d.spans["crf_ner"].attrs["scores"] for d in b])
    assert len(sa) == len(sb) and not numpy.allclose(sa, sb)


def test_stored_maps_change_scores_of_their_type_only(model_and_data):
    model, _ = model_and_data
    nlp = spacy.load(model)
    ner = nlp.get_pipe("crf_ner")
    ner.with_scores = True
    texts = [t for t, _ in GOLD[:6]]
    raw = list(nlp.pipe(texts))
    ner.cfg["calibration"] = {"per_type": {"name": {"method": "platt", "a": 1.0, "b": -3.0}}}
    mapped = list(nlp.pipe(texts))
    seen = set()
    for d0, d1 in zip(raw, mapped):
        for span, s0, s1 in zip(d0.spans["crf_ner"], d0.spans["crf_ner"].attrs["scores"], d1.spans["crf_ner"].attrs["scores"]):
            seen.add(span.label_)
            if span.label_ == "name":
                assert s1 < s0
            else:
                assert s1 == pytest.approx(s0)
    assert "name" in seen and len(seen) > 1


def test_calibrate_replaces_an_old_output_and_refuses_its_input(model_and_data, tmp_path):
    model, data = model_and_data
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    calibrate(str(model), data, out, min_entities=2)
    assert not (out / "stale.txt").exists() and (out / "meta.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    for bad in (model, model / "crf_ner", model.parent):
        with pytest.raises(OSError, match="E063"):
            calibrate(str(model), data, bad)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError, match="E063"):
        calibrate(str(model), data, tmp_path / "file")


def test_a_failed_save_leaves_the_old_output(model_and_data, tmp_path, monkeypatch):
    model, data = model_and_data
    out = tmp_path / "out"
    calibrate(str(model), data, out, min_entities=2)
    before = _tree_digest(out)

    def broken_to_disk(self, path, **kwargs):
        path.mkdir(parents=True)
        (path / "half").write_text("written")
        raise OSError("disk full")

    monkeypatch.setattr(spacy.language.Language, "to_disk", broken_to_disk)
    with pytest.raises(OSError, match="disk full"):
        calibrate(str(model), data, out, min_entities=2)
    assert _tree_digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cli_and_report_on_the_held_out_half(model_and_data, tmp_path):
    model, data = model_and_data
    out = tmp_path / "out"
    result = runner.invoke(app, ["calibrate", str(model), str(data), str(out), "--min-entities", "2",
                                 "--metrics", str(tmp_path / "m.json")])
    assert result.exit_code == 0, result.output
    assert "held-out" in result.output and "ECE" in result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    n_held = metrics["split"]["heldout_docs"]
    result = runner.invoke(app, ["report", str(out), str(data), "--output", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["confidence"]["n_docs"] == n_held and report["n_docs_scored"] == len(GOLD)
    assert f"on the {n_held} docs calibrate held out" in result.output
    # another file was not fitted on: every doc counts
    other = tmp_path / "other.spacy"
    DocBin(docs=list(DocBin().from_disk(data).get_docs(spacy.blank("zh").vocab))[:5]).to_disk(other)
    result = runner.invoke(app, ["report", str(out), str(other), "--output", str(tmp_path / "rep2")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "rep2" / "report.json").read_text())["confidence"]["docs"] == "all"


def test_cli_one_line_errors(model_and_data, tmp_path):
    model, data = model_and_data
    result = runner.invoke(app, ["calibrate", str(model), str(data), str(model)])
    assert result.exit_code == 1 and "E063" in result.output and "Traceback" not in result.output
    one = tmp_path / "one.spacy"
    DocBin(docs=list(DocBin().from_disk(data).get_docs(spacy.blank("zh").vocab))[:1]).to_disk(one)
    result = runner.invoke(app, ["calibrate", str(model), str(one), str(tmp_path / "o")])
    assert result.exit_code == 1 and "E061" in result.output
    assert not (tmp_path / "o").exists()
    result = runner.invoke(app, ["calibrate", str(model), str(data), str(tmp_path / "o"), "--maps", "spline"])
    assert result.exit_code == 2 and not (tmp_path / "o").exists()
    assert calibration_module.MIN_GAIN > 0


def test_nothing_to_fit_is_a_warning_and_an_uncalibrated_copy(tmp_path):
    nlp = train_small_crf(0)  # untrained: predicts no entity
    nlp.to_disk(tmp_path / "m")
    docs = []
    for text, spans in GOLD[:6]:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label) for s, e, label in spans]
        docs.append(doc)
    DocBin(docs=docs).to_disk(tmp_path / "d.spacy")
    ner = nlp.get_pipe("crf_ner")
    ner.with_scores = True
    if any(len(d.ents) for d in nlp.pipe([t for t, _ in GOLD[:6]])):
        pytest.skip("the untrained model happens to predict entities")
    with pytest.warns(UserWarning, match="W007"):
        result = calibrate(str(tmp_path / "m"), tmp_path / "d.spacy", tmp_path / "out")
    assert result["temperature"]["temperature"] == 1.0 and result["maps"] == {}
    assert srsly.read_json(tmp_path / "out" / "crf_ner" / "cfg")["calibration"]["per_type"] == {}
