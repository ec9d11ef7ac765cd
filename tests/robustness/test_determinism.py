"""Determinism on CPU: same seed -> same training; predictions independent of
batch size, batch order and of being run twice."""
import json
import random

import pytest
import spacy
import srsly
from spacy.cli.train import train
from spacy.tokens import DocBin

from ..util import CNN_CONFIG, SMALL_CNN, TRAIN_DATA, ents, train_small_cnn

PROBES = [text for text, _ in TRAIN_DATA] + ["赵六在深圳的华为当产品经理", "孙七去了杭州西湖", "Hello 张三 😀 上海"]


def weights(nlp):
    return {name: proc.model.to_bytes() for name, proc in nlp.components}


def test_update_loop_twice_with_the_same_seed_is_identical():
    nlp_a, losses_a = train_small_cnn(seed=1, steps=15)
    nlp_b, losses_b = train_small_cnn(seed=1, steps=15)
    assert losses_a == losses_b
    assert weights(nlp_a) == weights(nlp_b)
    assert [ents(d) for d in nlp_a.pipe(PROBES)] == [ents(d) for d in nlp_b.pipe(PROBES)]
    # and the seed matters (else the test above proves nothing)
    nlp_c, losses_c = train_small_cnn(seed=2, steps=15)
    assert losses_c != losses_a


def synthetic_corpus(path, n, seed):
    """n docs from templates: every entity type of TRAIN_DATA, random mixes."""
    rng = random.Random(seed)
    names, places, companies = ["张三", "李四", "王五", "赵六"], ["上海", "广州", "北京", "深圳"], ["腾讯", "华为", "阿里"]
    nlp = spacy.blank("zh")
    docs = []
    for _ in range(n):
        parts = [(rng.choice(names), "name"), ("在", None), (rng.choice(places), "address"), ("的", None),
                 (rng.choice(companies), "company"), ("当", None), ("工程师", "position")]
        text, spans = "", []
        for surface, label in parts:
            if label:
                spans.append((len(text), len(text) + len(surface), label))
            text += surface
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label=lab) for s, e, lab in spans]
        docs.append(doc)
    DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"], docs=docs).to_disk(path)


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    synthetic_corpus(root / "train.spacy", 40, seed=0)
    synthetic_corpus(root / "dev.spacy", 10, seed=1)
    return root


def short_train(corpus, output, seed):
    overrides = {
        "paths.train": str(corpus / "train.spacy"),
        "paths.dev": str(corpus / "dev.spacy"),
        "system.seed": seed,
        **SMALL_CNN,
        "training.max_steps": 12,
        "training.eval_frequency": 6,
        "training.batcher.size.start": 60,
        "training.batcher.size.stop": 60,
    }
    train(CNN_CONFIG, output, overrides=overrides)
    return spacy.load(output / "model-last")


@pytest.mark.slow
def test_spacy_train_twice_with_the_same_seed_is_identical(tiny_corpus, tmp_path):
    """The real training loop (shuffling batcher, dropout, Adam) from the config seed."""
    a = short_train(tiny_corpus, tmp_path / "a", seed=0)
    b = short_train(tiny_corpus, tmp_path / "b", seed=0)
    perf_a = srsly.read_json(tmp_path / "a" / "model-best" / "meta.json")["performance"]
    perf_b = srsly.read_json(tmp_path / "b" / "model-best" / "meta.json")["performance"]
    assert perf_a == perf_b
    assert weights(a) == weights(b)
    assert [ents(d) for d in a.pipe(PROBES)] == [ents(d) for d in b.pipe(PROBES)]
    assert perf_a["ents_f"] > 0.5  # it learnt something: the weights compared are trained ones
    c = short_train(tiny_corpus, tmp_path / "c", seed=1)
    assert weights(c) != weights(a)


@pytest.fixture(scope="module")
def dev_texts(data_dir):
    lines = (data_dir / "cluener2020" / "dev.json").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    return random.Random(0).sample(texts, 400)


@pytest.mark.slow
def test_real_dev_predictions_do_not_depend_on_batching(cnn_nlp, dev_texts):
    alone = [ents(cnn_nlp(t)) for t in dev_texts]
    assert sum(map(len, alone)) > 100  # enough entities for the comparison to mean something
    assert [ents(cnn_nlp(t)) for t in dev_texts] == alone  # run twice
    for batch_size in (1, 7, 128, 1000):
        assert [ents(d) for d in cnn_nlp.pipe(dev_texts, batch_size=batch_size)] == alone, batch_size
    order = list(range(len(dev_texts)))
    random.Random(1).shuffle(order)
    shuffled = [ents(d) for d in cnn_nlp.pipe([dev_texts[i] for i in order], batch_size=64)]
    assert [shuffled[order.index(i)] for i in range(len(dev_texts))] == alone
    # longest and shortest together in one batch (most padding)
    by_len = sorted(range(len(dev_texts)), key=lambda i: len(dev_texts[i]))
    mixed = by_len[:20] + by_len[-20:]
    assert [ents(d) for d in cnn_nlp.pipe([dev_texts[i] for i in mixed], batch_size=40)] == [alone[i] for i in mixed]
