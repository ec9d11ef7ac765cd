"""crf_ner's entity confidence: scores in doc.spans, the threshold knob, saving."""
import json
import subprocess
import sys

import numpy
import pytest
import spacy
import srsly
from spacy.tokens import DocBin

from spacy_cluener.components.crf_ner import DEFAULT_SCORES
from spacy_cluener.layers import crf_batch as crf_batch_module

from ..util import SMALL_MODEL, TRAIN_DATA, ents, make_examples, train_small_crf

TEXTS = [t for t, _ in TRAIN_DATA] + ["张三和李四在北京的腾讯", "", "广州天安门", "我", "王五 去了 上海"]


@pytest.fixture(scope="module", params=["BIO", "BIOES"])
def trained(request):
    # Trained only a little, so that scores are spread out, not all ~1.
    return train_small_crf(12, scheme=request.param, scores=True)


def _spans(doc, key="crf_ner"):
    group = doc.spans[key]
    return [(s.start_char, s.end_char, s.label_) for s in group], group.attrs.get("scores")


def test_scores_align_with_spans_and_ents(trained):
    ner = trained.get_pipe("crf_ner")
    assert ner.with_scores and ner.threshold == 0.0 and ner.spans_key == "crf_ner"
    n_spans = 0
    for doc in trained.pipe(TEXTS, batch_size=3):
        spans, scores = _spans(doc)
        assert spans == ents(doc)
        assert isinstance(scores, numpy.ndarray) and len(scores) == len(spans)
        assert ((scores >= 0) & (scores <= 1)).all()
        n_spans += len(spans)
    assert n_spans > 5


def test_threshold_zero_is_viterbi_and_scores_off_costs_nothing(trained, monkeypatch):
    ner = trained.get_pipe("crf_ner")
    with_scores = [ents(doc) for doc in trained.pipe(TEXTS)]
    viterbi = []
    for text in TEXTS:
        doc = trained.make_doc(text)
        ids = ner._decode(ner.model.predict([doc]))[0] if len(doc) else []
        viterbi.append([(s, e, label) for s, e, label, _ in ner._entity_reader()(ids)])
    for text, found, path in zip(TEXTS, with_scores, viterbi):
        doc = trained.make_doc(text)
        assert found == [(doc[s:e].start_char, doc[s:e].end_char, label) for s, e, label in path]

    def boom(*args, **kwargs):
        raise AssertionError("forward-backward ran with scores off")

    monkeypatch.setattr(crf_batch_module, "crf_posteriors", boom)
    monkeypatch.setitem(ner.cfg, "scores", False)
    docs = list(trained.pipe(TEXTS))
    assert [ents(doc) for doc in docs] == with_scores
    assert all("scores" not in doc.spans["crf_ner"].attrs for doc in docs)


def test_threshold_leaves_low_scores_out_of_ents_only(trained, monkeypatch):
    ner = trained.get_pipe("crf_ner")
    docs = list(trained.pipe(TEXTS))
    all_scores = numpy.concatenate([doc.spans["crf_ner"].attrs["scores"] for doc in docs])
    t = float(numpy.median(all_scores))
    assert 0 < t < 1
    monkeypatch.setitem(ner.cfg, "threshold", t)
    for before, doc in zip(docs, trained.pipe(TEXTS)):
        spans, scores = _spans(doc)
        assert spans == _spans(before)[0]  # every Viterbi entity stays in doc.spans
        assert ents(doc) == [span for span, score in zip(spans, scores) if score >= t]


def test_scores_survive_docbin_and_multiprocessing(trained, tmp_path):
    docs = list(trained.pipe(TEXTS))
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "d.spacy")
    loaded = list(DocBin().from_disk(tmp_path / "d.spacy").get_docs(trained.vocab))
    for a, b in zip(docs, loaded):
        assert _spans(a)[0] == _spans(b)[0]
        numpy.testing.assert_array_equal(_spans(a)[1], _spans(b)[1])
    # n_process forks (on Linux) after this process has predicted: torch has
    # run a parallel region, whose libgomp thread pool does not survive a fork
    # (the workers hung before spacy_cluener.layers made forked children use
    # one torch thread). A fresh process, so that torch runs with its own
    # default threads whatever pytest set.
    trained.to_disk(tmp_path / "model")
    script = (
        "import json, sys, spacy, torch\n"
        "torch.set_num_threads(2)\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "texts = json.loads(sys.argv[2])\n"
        "list(nlp.pipe(texts * 20, batch_size=64))  # torch's parallel regions run here, before the fork\n"
        "docs = nlp.pipe(texts, n_process=2, batch_size=2)\n"
        "key = nlp.get_pipe('crf_ner').spans_key\n"
        "print(json.dumps([[[(s.start_char, s.end_char, s.label_) for s in d.spans[key]],"
        " [float(x) for x in d.spans[key].attrs['scores']],"
        " [(e.start_char, e.end_char, e.label_) for e in d.ents]] for d in docs]))\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "model"), json.dumps(TEXTS)],
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("nlp.pipe(n_process=2) hung after a prediction in the parent process")
    assert proc.returncode == 0, proc.stderr
    parallel = json.loads(proc.stdout)
    assert any(len(scores) for _, scores, _ in parallel)
    for a, (spans, scores, doc_ents) in zip(docs, parallel):
        assert _spans(a)[0] == [tuple(s) for s in spans] and ents(a) == [tuple(e) for e in doc_ents]
        numpy.testing.assert_allclose(_spans(a)[1], scores, rtol=1e-6, atol=1e-9)


def test_settings_are_saved_and_old_models_load(trained, tmp_path):
    ner = trained.get_pipe("crf_ner")
    scores = [_spans(doc)[1] for doc in trained.pipe(TEXTS)]
    # the threshold knob on a live pipeline is saved with the model
    ner.threshold = 0.3
    try:
        trained.to_disk(tmp_path / "m")
    finally:
        ner.threshold = 0.0
    loaded = spacy.load(tmp_path / "m").get_pipe("crf_ner")
    assert loaded.threshold == pytest.approx(0.3) and loaded.with_scores and loaded.spans_key == "crf_ner"
    # a model saved before these settings: no keys in cfg nor in config.cfg
    cfg_path = tmp_path / "m" / "crf_ner" / "cfg"
    cfg = srsly.read_json(cfg_path)
    for key in ("scores", "threshold", "spans_key", "temperature"):
        cfg.pop(key)
    srsly.write_json(cfg_path, cfg)
    config = (tmp_path / "m" / "config.cfg").read_text(encoding="utf8")
    config = "\n".join(line for line in config.splitlines() if not line.startswith(("scores =", "threshold =", "spans_key =")))
    (tmp_path / "m" / "config.cfg").write_text(config, encoding="utf8")
    old = spacy.load(tmp_path / "m")
    # ... gets the factory's defaults
    assert old.get_pipe("crf_ner").threshold == 0.0 and old.get_pipe("crf_ner").with_scores == DEFAULT_SCORES
    old.get_pipe("crf_ner").cfg["scores"] = True
    for doc, expected in zip(old.pipe(TEXTS), scores):
        numpy.testing.assert_allclose(_spans(doc)[1], expected, rtol=1e-6, atol=1e-9)


def test_scores_are_on_by_default():
    assert DEFAULT_SCORES is True
    assert spacy.blank("zh").add_pipe("crf_ner", config={"model": SMALL_MODEL}).with_scores


def test_other_key_and_bad_settings():
    nlp = spacy.blank("zh")
    nlp.add_pipe("crf_ner", config={"model": SMALL_MODEL, "spans_key": "conf", "scores": True})
    examples = make_examples(nlp)
    nlp.initialize(lambda: examples)
    doc = nlp("张三在上海工作")
    assert "conf" in doc.spans and "crf_ner" not in doc.spans
    # a threshold needs the scores: it turns them on (spacy find-threshold sets only it; issue 23)
    assert spacy.blank("zh").add_pipe("crf_ner", config={"model": SMALL_MODEL, "scores": False, "threshold": 0.5}).with_scores
    with pytest.raises(ValueError, match="E019"):
        spacy.blank("zh").add_pipe("crf_ner", config={"model": SMALL_MODEL, "scores": True, "threshold": 1.5})
    with pytest.raises(ValueError, match="E019"):
        nlp.get_pipe("crf_ner").threshold = -0.1


def test_temperature_softens_scores_not_ents(trained, monkeypatch):
    ner = trained.get_pipe("crf_ner")
    docs = list(trained.pipe(TEXTS))
    monkeypatch.setitem(ner.cfg, "temperature", 3.0)
    hot = list(trained.pipe(TEXTS))
    assert [ents(d) for d in hot] == [ents(d) for d in docs]
    before = numpy.concatenate([d.spans["crf_ner"].attrs["scores"] for d in docs])
    after = numpy.concatenate([d.spans["crf_ner"].attrs["scores"] for d in hot])
    assert not numpy.allclose(before, after)
    # softer: the most confident entity is less so (T -> inf: uniform over paths)
    assert after[before.argmax()] < before.max()


@pytest.mark.parametrize("batch_size", [4, 40])
def test_expected_errors_are_those_of_every_tagging_enumerated(trained, monkeypatch, batch_size):
    """Each doc's expected wrong tags: every tagging of a short text
    enumerated (its probability from pytorch-crf's log-likelihood under the
    scheme's masks, the doc's constraints and the temperature), weighted by
    how many tags it differs from the Viterbi path. On the numpy path (few
    docs per batch) and the torch one (more than NUMPY_VITERBI_MAX_DOCS)."""
    import itertools

    import torch
    from torchcrf import CRF

    from spacy_cluener.layers.crf_batch import crf_parameters
    from spacy_cluener.layers.crf_likelihood import FORBIDDEN
    from spacy_cluener.layers.crf_tagger import get_crf_module

    ner = trained.get_pipe("crf_ner")
    temperature = 2.0
    monkeypatch.setitem(ner.cfg, "temperature", temperature)
    monkeypatch.setitem(ner.cfg, "expected_errors", True)
    texts = ["张三", "广州", "我", "李  四", "", "腾讯"] * 7
    docs = list(trained.pipe(texts, batch_size=batch_size))
    start, end, transitions = crf_parameters(get_crf_module(ner.model))
    crf = CRF(len(start), batch_first=True).double()
    for param, value in ((crf.start_transitions, start), (crf.end_transitions, end), (crf.transitions, transitions)):
        param.data = torch.tensor(value, dtype=torch.float64) / temperature
    for doc in docs[:6]:
        got = doc.spans["crf_ner"].attrs["expected_errors"]
        if not len(doc):
            assert got == 0.0
            continue
        scores = numpy.array(ner.model.predict([doc])[0], dtype="float64")
        allowed = ner._allowed(len(doc), doc.to_array("IS_SPACE").astype(bool), None)
        if allowed is not None:
            scores[~allowed] = FORBIDDEN
        (tags,) = ner._decode([scores])
        paths = torch.tensor(list(itertools.product(range(len(start)), repeat=len(doc))))
        em = torch.tensor(scores / temperature)[None].expand(len(paths), -1, -1)
        log_p = crf(em, paths, mask=torch.ones(paths.shape, dtype=torch.bool), reduction="none")
        wrong = (paths != torch.as_tensor(tags)[None]).sum(1).double()
        assert got == pytest.approx(float((torch.exp(log_p) * wrong).sum()), rel=1e-6, abs=1e-9), doc.text
    assert len({round(d.spans["crf_ner"].attrs["expected_errors"], 6) for d in docs}) > 3
    # off by default, and then nothing is written
    monkeypatch.setitem(ner.cfg, "expected_errors", False)
    assert all("expected_errors" not in d.spans["crf_ner"].attrs for d in trained.pipe(texts[:6]))


def test_fit_temperature_lowers_the_log_loss(trained, monkeypatch):
    from spacy_cluener.training.temperature import fit_temperature

    ner = trained.get_pipe("crf_ner")
    monkeypatch.setitem(ner.cfg, "temperature", 1.0)
    gold = []
    for text, spans in [("张三和李四在北京", [(0, 2, "name"), (3, 5, "name"), (6, 8, "address")]),
                        ("王五去了腾讯", [(0, 2, "name"), (4, 6, "company")])] + TRAIN_DATA:
        doc = trained.make_doc(text)
        doc.ents = [doc.char_span(s, e, label) for s, e, label in spans]
        gold.append(doc)
    result = fit_temperature(trained, gold, steps=6)
    assert 0.25 <= result["temperature"] <= 8.0
    assert result["log_loss"] <= result["log_loss_t1"]
    assert ner.cfg["temperature"] == result["temperature"]
