"""benchmarks/scripts/bench/active_learning.py: the `sequence` strategy's
score, the probability of a doc's whole predicted tagging."""
import numpy
import pytest
import torch
from torchcrf import CRF

from spacy_cluener.evaluation.confidence import enable_scores, scores_key

from ..util import BENCHMARK_SCRIPTS, train_small_cnn


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARK_SCRIPTS))
    import bench.active_learning

    return bench.active_learning


def test_path_probability_is_pytorch_crf_likelihood_of_the_viterbi_path(bench):
    """The reference: pytorch-crf's log-likelihood of the tags crf_ner predicts,
    with its scheme-masked transition scores."""
    from spacy_cluener.layers.crf_batch import crf_parameters
    from spacy_cluener.layers.crf_tagger import get_crf_module

    nlp, _ = train_small_cnn(steps=20)
    texts = ["张三在上海工作", "李四去了广州", "我"]
    probs = bench.path_probabilities(nlp, texts)
    comp = nlp.get_pipe("crf_ner")
    start, end, transitions = crf_parameters(get_crf_module(comp.model))
    crf = CRF(len(start), batch_first=True).double()
    for param, value in ((crf.start_transitions, start), (crf.end_transitions, end), (crf.transitions, transitions)):
        param.data = torch.tensor(value, dtype=torch.float64)
    docs = list(nlp.pipe(texts))
    emissions = comp.model.predict(docs)
    for p, scores, tags in zip(probs, emissions, comp._decode(emissions)):
        mask = torch.ones((1, len(tags)), dtype=torch.bool)
        ll = crf(torch.tensor(numpy.asarray(scores, dtype="float64"))[None], torch.as_tensor(tags)[None], mask=mask)
        assert p == pytest.approx(float(torch.exp(ll)), rel=1e-9)


def test_path_probability_is_at_most_every_entity_score(bench):
    """P(whole tagging) <= P(any part of it): at most the doc's lowest entity
    marginal; a doc without entities gets a probability below 1 too."""
    nlp, _ = train_small_cnn(steps=20)
    texts = ["张三在上海工作", "李四去了广州", "今天天气很好", "王五是腾讯的工程师", ""]
    probs = bench.path_probabilities(nlp, texts, batch_size=2)
    assert probs[-1] == 1.0 and all(0 < p <= 1 for p in probs)
    enable_scores(nlp)
    key = scores_key(nlp)
    for p, doc in zip(probs, nlp.pipe(texts)):
        scores = doc.spans[key].attrs.get("scores")
        if len(doc.ents):
            assert p <= min(scores) + 1e-9, doc.text
        elif len(doc):
            assert p < 1.0


def test_labelled_totals_per_round(tmp_path):
    import json
    import subprocess
    import sys

    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("zh")

    def write(path, texts):
        path.mkdir(parents=True)
        docs = []
        for text in texts:
            doc = nlp.make_doc(text)
            doc.ents = [doc.char_span(0, 2, label="name")]
            docs.append(doc)
        DocBin(docs=docs).to_disk(path / "train.spacy")

    write(tmp_path / "work" / "seed0" / "round0", ["张三在上海"])
    write(tmp_path / "work" / "seed0" / "sequence" / "round1", ["张三在上海", "李四去了广州"])
    out = tmp_path / "labelled.json"
    proc = subprocess.run([sys.executable, str(BENCHMARK_SCRIPTS / "active_learning_labelled.py"), str(tmp_path / "work"),
                           str(out)], capture_output=True, text=True, cwd=BENCHMARK_SCRIPTS.parent, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text(encoding="utf8"))["labelled"]["sequence"]["0"]
    assert rows == [{"round": 0, "docs": 1, "chars": 5, "entities": 1}, {"round": 1, "docs": 2, "chars": 11, "entities": 2}]
