"""Strict entity matching, error kinds, the report and the `report` CLI.

Scores are cross-checked against spaCy's `get_ner_prf` (exactly) and against
seqeval on IOB tags of the same docs; error kinds against hand-made docs.
"""
import json
import random

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import (
    classification_report,
    f1_score,
    precision_score,
    recall_score,
)
from spacy.scorer import get_ner_prf
from spacy.tokens import DocBin, Span
from spacy.training import Example, biluo_to_iob
from spacy.training.iob_utils import doc_to_biluo_tags
from spacy.util import filter_spans
from typer.testing import CliRunner

from spacy_cluener.cli import app
from spacy_cluener.evaluation import (
    FN_KINDS,
    FP_KINDS,
    analyse_examples,
    build_report,
    errors_html,
    read_training_log,
    report_to_markdown,
)
from spacy_cluener.scoring import score_entities

from ..util import make_doc, make_example

LABELS = ["name", "company", "game", "address"]


@pytest.fixture(scope="module")
def nlp():
    # spacy.blank("zh") splits into one token per character, so the token
    # offsets below are character offsets too.
    return spacy.blank("zh")


def random_text(rng, length):
    return "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(length))


def random_spans(rng, length, n):
    spans = []
    for _ in range(n):
        start = rng.randrange(length)
        end = min(length, start + rng.randint(1, 5))
        spans.append((start, end, rng.choice(LABELS)))
    return spans


def non_overlapping(nlp, text, spans):
    doc = nlp.make_doc(text)
    kept = filter_spans([Span(doc, s, e, label=label) for s, e, label in spans])
    return sorted((span.start, span.end, span.label_) for span in kept)


def perturb(rng, length, gold):
    """Predictions near the gold: exact, relabelled, shifted, dropped, spurious."""
    pred = []
    for start, end, label in gold:
        roll = rng.random()
        if roll < 0.5:
            pred.append((start, end, label))
        elif roll < 0.65:
            pred.append((start, end, rng.choice([x for x in LABELS if x != label])))
        elif roll < 0.85:
            start = max(0, start + rng.choice([-1, 0, 1]))
            end = min(length, max(start + 1, end + rng.choice([-1, 1])))
            pred.append((start, end, rng.choice([label, label, rng.choice(LABELS)])))
    return pred + random_spans(rng, length, rng.randint(0, 2))


def random_examples(nlp, seed, n_docs, partial=True):
    """Random gold/pred docs; with partial=True some gold docs are partly or
    not at all annotated (spaCy then ignores or skips them)."""
    rng = random.Random(seed)
    examples = []
    for _ in range(n_docs):
        length = rng.randint(1, 40)
        text = random_text(rng, length)
        gold = non_overlapping(nlp, text, random_spans(rng, length, rng.randint(0, 5)))
        pred = non_overlapping(nlp, text, perturb(rng, length, gold))
        roll = rng.random() if partial else 1.0
        if roll < 0.05:
            gold_doc = nlp.make_doc(text)  # no entity annotation at all
            examples.append(Example(make_doc(nlp, text, pred), gold_doc))
        else:
            default = "missing" if roll < 0.15 else "outside"
            examples.append(make_example(nlp, text, gold, pred, default=default))
    return examples


def check_kinds_add_up(report):
    for label, scores in report["per_type"].items():
        assert set(report["errors"][label]["fp"]) == set(FP_KINDS)
        assert set(report["errors"][label]["fn"]) == set(FN_KINDS)
        assert sum(report["errors"][label]["fp"].values()) == scores["fp"]
        assert sum(report["errors"][label]["fn"].values()) == scores["fn"]
        assert scores["support"] == scores["tp"] + scores["fn"]


def test_error_kinds_of_hand_made_doc(nlp):
    text = random_text(random.Random(0), 30)
    gold = [(0, 3, "name"), (5, 8, "company"), (10, 12, "game"), (14, 17, "address"), (20, 22, "position")]
    pred = [(0, 3, "name"), (5, 8, "organization"), (10, 13, "game"), (14, 16, "name"), (25, 28, "scene")]
    report = build_report(analyse_examples([make_example(nlp, text, gold, pred)]))
    zero = {"fp": dict.fromkeys(FP_KINDS, 0), "fn": dict.fromkeys(FN_KINDS, 0)}

    def kinds(fp=(), fn=()):
        out = json.loads(json.dumps(zero))
        for kind in fp:
            out["fp"][kind] += 1
        for kind in fn:
            out["fn"][kind] += 1
        return out

    assert report["errors"] == {
        "name": kinds(fp=["type_and_boundary"]),
        "organization": kinds(fp=["type"]),
        "company": kinds(fn=["type"]),
        "game": kinds(fp=["boundary"], fn=["boundary"]),
        "address": kinds(fn=["type_and_boundary"]),
        "position": kinds(fn=["missed"]),
        "scene": kinds(fp=["spurious"]),
    }
    assert report["per_type"]["name"] == {"p": 0.5, "r": 1.0, "f": pytest.approx(2 / 3), "tp": 1, "fp": 1, "fn": 0, "support": 1}
    assert (report["micro"]["tp"], report["micro"]["fp"], report["micro"]["fn"]) == (1, 4, 4)
    assert report["micro"]["p"] == report["micro"]["r"] == pytest.approx(0.2)
    assert report["sentence_accuracy"] == 0.0
    check_kinds_add_up(report)


def test_prediction_over_two_gold_entities(nlp):
    text = random_text(random.Random(1), 12)
    gold = [(0, 2, "name"), (2, 4, "company"), (6, 8, "name"), (8, 10, "company")]
    # the first prediction shares its label with one gold entity, the second with none
    pred = [(1, 4, "company"), (7, 10, "game")]
    (result,) = analyse_examples([make_example(nlp, text, gold, pred)])
    found = sorted((e.side, e.label, e.mention.start, e.kind, e.other.start if e.other else None) for e in result.errors)
    assert found == [
        ("fn", "company", 2, "boundary", 1),
        ("fn", "company", 8, "type_and_boundary", 7),
        ("fn", "name", 0, "type_and_boundary", 1),
        ("fn", "name", 6, "type_and_boundary", 7),
        ("fp", "company", 1, "boundary", 2),
        ("fp", "game", 7, "type_and_boundary", 6),  # the first overlapping gold entity
    ]


def test_exact_docs_and_unannotated_docs(nlp):
    text = random_text(random.Random(2), 10)
    examples = [
        make_example(nlp, text, [(0, 2, "name")], [(0, 2, "name")]),
        make_example(nlp, text, [], []),  # nothing to find, nothing found: exact
        make_example(nlp, text, [(0, 2, "name")], []),
        Example(make_doc(nlp, text, [(3, 5, "game")]), nlp.make_doc(text)),  # no gold annotation
    ]
    report = build_report(analyse_examples(examples))
    assert (report["n_docs"], report["n_docs_scored"]) == (4, 3)
    assert report["sentence_accuracy"] == pytest.approx(2 / 3)
    assert set(report["per_type"]) == {"name"}
    scores = get_ner_prf(examples)
    assert report["micro"]["f"] == scores["ents_f"]


def test_no_entities_anywhere_gives_no_score(nlp):
    examples = [make_example(nlp, "一二三", [], [])]
    report = build_report(analyse_examples(examples))
    assert report["micro"]["f"] is None and get_ner_prf(examples)["ents_f"] is None
    assert report["sentence_accuracy"] == 1.0
    assert "n/a" in report_to_markdown(report)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_equal_spacy_get_ner_prf(nlp, seed):
    examples = random_examples(nlp, seed, 300)
    report = build_report(analyse_examples(examples))
    scores = score_entities(examples)
    assert report["micro"]["p"] == scores["ents_p"]
    assert report["micro"]["r"] == scores["ents_r"]
    assert report["micro"]["f"] == scores["ents_f"]
    assert {k: {m: v[m] for m in "prf"} for k, v in report["per_type"].items()} == scores["ents_per_type"]
    assert report["macro"]["f"] == pytest.approx(scores["ents_macro_f"], abs=1e-12)
    assert report["ignored_predictions"] > 0  # the partial docs were exercised
    assert report["n_docs_scored"] < report["n_docs"]
    check_kinds_add_up(report)


def iob_tags(doc):
    return biluo_to_iob(doc_to_biluo_tags(doc))


@pytest.mark.parametrize("seed", [3, 4])
def test_scores_equal_seqeval(nlp, seed):
    examples = random_examples(nlp, seed, 300, partial=False)
    report = build_report(analyse_examples(examples))
    y_true = [iob_tags(eg.reference) for eg in examples]
    y_pred = [iob_tags(eg.predicted) for eg in examples]
    assert report["micro"]["p"] == pytest.approx(precision_score(y_true, y_pred), abs=1e-12)
    assert report["micro"]["r"] == pytest.approx(recall_score(y_true, y_pred), abs=1e-12)
    assert report["micro"]["f"] == pytest.approx(f1_score(y_true, y_pred), abs=1e-12)
    per_type = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    assert set(report["per_type"]) == {k for k in per_type if "avg" not in k}
    for label, scores in report["per_type"].items():
        theirs = per_type[label]
        assert scores["p"] == pytest.approx(theirs["precision"], abs=1e-12)
        assert scores["r"] == pytest.approx(theirs["recall"], abs=1e-12)
        assert scores["f"] == pytest.approx(theirs["f1-score"], abs=1e-12)
        assert scores["support"] == theirs["support"]
    assert report["macro"]["f"] == pytest.approx(per_type["macro avg"]["f1-score"], abs=1e-12)
    exact = sum(
        {(e.start, e.end, e.label_) for e in eg.predicted.ents} == {(e.start, e.end, e.label_) for e in eg.reference.ents}
        for eg in examples
    )
    assert report["sentence_accuracy"] == exact / len(examples)


span_lists = st.lists(
    st.tuples(st.integers(0, 19), st.integers(1, 4), st.sampled_from(LABELS[:3])), max_size=6
)


@settings(max_examples=60, deadline=None)
@given(docs=st.lists(st.tuples(span_lists, span_lists), min_size=1, max_size=4))
def test_kinds_always_add_up(nlp, docs):
    text = "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸"
    examples = []
    def as_spans(spans):
        return non_overlapping(nlp, text, [(s, min(20, s + n), label) for s, n, label in spans])

    for gold, pred in docs:
        examples.append(make_example(nlp, text, as_spans(gold), as_spans(pred)))
    report = build_report(analyse_examples(examples))
    check_kinds_add_up(report)
    assert report["micro"]["f"] == get_ner_prf(examples)["ents_f"]


def test_samples_are_seeded(nlp):
    examples = random_examples(nlp, 5, 100, partial=False)
    results = analyse_examples(examples)
    first = build_report(results, n_samples=2, seed=7)["samples"]
    assert first == build_report(results, n_samples=2, seed=7)["samples"]
    report = build_report(results, n_samples=2, seed=7)
    for label, samples in first.items():
        assert len(samples) == min(2, report["per_type"][label]["fp"] + report["per_type"][label]["fn"])
        for sample in samples:
            assert sample["label"] == label
            assert sample["text"][sample["span"][0] : sample["span"][1] + 1] == sample["entity"]
    html = errors_html(report)
    assert html.startswith("<!DOCTYPE html>") and "<mark" in html


# ------------------------------------------------------------ training logs

CONSOLE_LOG = (
    "\x1b[38;5;4mℹ Initial learn rate: 0.001\x1b[0m\n"
    "E    #       LOSS TOK2VEC  LOSS CRF_NER  ENTS_MACRO_F  ENTS_F  ENTS_P  ENTS_R  SCORE \n"
    "---  ------  ------------  ------------  ------------  ------  ------  ------  ------\n"
    "  0       0         38.96        341.92          0.00    0.00    0.00    0.00    0.00\n"
    "  0     400       4244.71      18053.19         36.08   39.37   39.95   38.80    0.36\n"
    "\r  0%|          | 0/200 [00:00<?, ?it/s]\r  1     800       2870.10      13980.55         47.00   48.10   57.50   41.30    0.47\n"
    "\x1b[38;5;2m✔ Saved pipeline to output directory\x1b[0m\n"
)


def test_read_console_training_log(tmp_path):
    path = tmp_path / "train.log"
    path.write_text("E    #  LOSS X  SCORE\n---\n  0  1  5.00  0.10\n" + CONSOLE_LOG, encoding="utf-8")
    rows = read_training_log(path)
    assert [row["step"] for row in rows] == [0, 400, 800]  # the last table only
    assert rows[1] == {
        "epoch": 0,
        "step": 400,
        "losses": {"tok2vec": 4244.71, "crf_ner": 18053.19},
        "scores": pytest.approx({"ents_macro_f": 0.3608, "ents_f": 0.3937, "ents_p": 0.3995, "ents_r": 0.388}),
        "score": 0.36,
    }
    assert rows[2]["epoch"] == 1


def test_read_jsonl_training_log(tmp_path):
    path = tmp_path / "log.jsonl"
    row = {"epoch": 2, "step": 600, "losses": {"ner": 1.5}, "scores": {"ents_f": 55.0, "speed": 900.0}, "score": 0.55}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert read_training_log(path) == [
        {"epoch": 2, "step": 600, "losses": {"ner": 1.5}, "scores": {"ents_f": 0.55, "speed": 900.0}, "score": 0.55}
    ]


# ------------------------------------------------------------ CLI



GOLD = [
    # text, gold spans; the ruler finds 张三, 腾讯, 北京
    ("张三在腾讯工作", [(0, 2, "name"), (3, 5, "company")]),  # exact
    ("李四去了北京大学", [(0, 2, "name"), (4, 8, "organization")]),  # 北京: FP t+b; FN missed, FN t+b
    ("腾讯在北京", [(0, 2, "company")]),  # 北京: FP spurious
    ("王五说北京", [(0, 2, "name"), (3, 5, "scene")]),  # 北京: FP type; FN missed, FN type
]


def test_report_cli(nlp, ruler_model, tmp_path):
    data = tmp_path / "dev.spacy"
    DocBin(docs=[make_doc(nlp, text, spans) for text, spans in GOLD]).to_disk(data)
    training = tmp_path / "training"
    (training / "model-best").mkdir(parents=True)
    (training / "model-best" / "meta.json").write_text(
        json.dumps({"performance": {"ents_f": 0.5, "ents_p": 0.6, "ents_r": 0.4, "tok2vec_loss": 12.0}})
    )
    (training / "train.log").write_text(CONSOLE_LOG, encoding="utf-8")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["report", str(ruler_model), str(data), "--output", str(out), "--training-dir", str(training), "-n", "1"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert (report["micro"]["tp"], report["micro"]["fp"], report["micro"]["fn"]) == (3, 3, 4)
    assert report["micro"]["p"] == pytest.approx(0.5)
    assert report["micro"]["r"] == pytest.approx(3 / 7)
    assert report["micro"]["f"] == pytest.approx(6 / 13)
    assert report["sentence_accuracy"] == 0.25
    assert report["errors"]["address"]["fp"] == {"type": 1, "boundary": 0, "type_and_boundary": 1, "spurious": 1}
    assert report["errors"]["name"]["fn"] == {"type": 0, "boundary": 0, "type_and_boundary": 0, "missed": 2}
    assert report["errors"]["organization"]["fn"]["type_and_boundary"] == 1
    assert report["errors"]["scene"]["fn"]["type"] == 1
    assert report["per_type"]["name"] == {
        "p": 1.0, "r": pytest.approx(1 / 3), "f": 0.5, "tp": 1, "fp": 0, "fn": 2, "support": 3
    }
    assert report["macro"]["f"] == pytest.approx((0 + 1 + 0.5 + 0 + 0) / 5)
    assert {k: len(v) for k, v in report["samples"].items()} == {
        k: min(1, v["fp"] + v["fn"]) for k, v in report["per_type"].items()
    }
    assert report["training"]["best"]["ents_f"] == 0.5 and report["training"]["last"] is None
    assert [row["step"] for row in report["training"]["curve"]] == [0, 400, 800]
    # the micro F is spaCy's ents_f of the same pipeline on the same data
    model = spacy.load(ruler_model)
    gold_docs = list(DocBin().from_disk(data).get_docs(model.vocab))
    assert report["micro"]["f"] == model.evaluate([Example(model.make_doc(d.text), d) for d in gold_docs])["ents_f"]

    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| name | 100.00 | 33.33 | 50.00 | 3 | 1 | 0 | 2 |" in markdown
    assert "| address | 1 | 0 | 1 | 1 | 3 | 0 | 0 | 0 | 0 | 0 |" in markdown
    assert "![learning_curve.png](learning_curve.png)" in markdown
    for name in ("per_type_f1.png", "error_kinds.png", "learning_curve.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "errors.html").read_text(encoding="utf-8")
    assert "<mark" in html and "北京" in html


def test_report_cli_without_training_log(nlp, ruler_model, tmp_path):
    data = tmp_path / "dev.spacy"
    DocBin(docs=[make_doc(nlp, text, spans) for text, spans in GOLD[:1]]).to_disk(data)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", str(ruler_model), str(data), "--output", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["micro"]["f"] == 1.0 and report["sentence_accuracy"] == 1.0
    assert "training" not in report and not (out / "learning_curve.png").exists()
    assert "No errors." in (out / "errors.html").read_text(encoding="utf-8")


def test_report_cli_on_a_corpus_without_gold_entities(nlp, ruler_model, tmp_path):
    """Issue 24 #9: an unlabelled corpus (CLUENER test.spacy) crashed drawing
    the empty type-confusion matrix, leaving two PNGs and no report.json."""
    data = tmp_path / "test.spacy"
    DocBin(docs=[nlp.make_doc("张三在北京"), nlp.make_doc("今天天气很好")]).to_disk(data)
    out = tmp_path / "report"
    with pytest.warns(UserWarning, match="W003"):
        result = CliRunner().invoke(app, ["report", str(ruler_model), str(data), "--output", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["micro"]["f"] is None and report["n_docs"] == 2
    assert (out / "type_confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
