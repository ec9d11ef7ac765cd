"""A user dictionary of a domain's names raises recall on that domain.

Synthetic domain: product names of 3-5 random characters, written between
random characters of the same alphabet, so that nothing but a dictionary can
tell where a name starts and ends. Two small CNN pipelines are trained the
same way on names A; the user dictionary of one holds A, of the other A and
the unseen names B. Recall on sentences with B is much higher with B in the
dictionary.
"""
import random

from spacy import util
from spacy.training import Example
from thinc.api import fix_random_seed

from spacy_cluener.scoring import score_entities

from ..util import REPO

ALPHABET = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
SMALL = {
    "components.tok2vec.model.encode.width": 32,
    "components.tok2vec.model.encode.depth": 2,
    "components.tok2vec.model.embed.char_rows": 1000,
    "components.tok2vec.model.embed.bigram_rows": 1000,
    "components.tok2vec.model.embed.lexicon.rows": 1000,
    "components.tok2vec.model.embed.lexicon.dictionary": None,
    "components.crf_ner.model.dropout": 0.0,
}


def names(rng, n):
    out = set()
    while len(out) < n:
        out.add("".join(rng.choice(ALPHABET) for _ in range(rng.randint(3, 5))))
    return sorted(out)


def sentences(rng, pool, n):
    data = []
    for _ in range(n):
        left = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
        right = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
        name = rng.choice(pool)
        data.append((left + name + right, [(len(left), len(left) + len(name), "product")]))
    return data


def train(user_dictionary, train_data, steps=120):
    overrides = dict(SMALL)
    overrides["components.tok2vec.model.embed.lexicon.user_dictionaries"] = [str(user_dictionary)]
    config = util.load_config(REPO / "configs" / "cnn_crf.cfg", overrides=overrides, interpolate=False)
    fix_random_seed(0)
    nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in train_data]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(steps):
        nlp.update(rng.sample(examples, 16), sgd=optimizer, drop=0.0)
    return nlp


def recall(nlp, data):
    examples = [Example.from_dict(nlp(t), {"entities": e}) for t, e in data]
    return score_entities(examples)["ents_r"]


def test_user_dictionary_raises_recall_on_its_domain(tmp_path):
    rng = random.Random(1)
    pool = names(rng, 60)
    seen, unseen = pool[:40], pool[40:]
    train_data = sentences(rng, seen, 300)
    test_data = sentences(rng, unseen, 100)
    without_b = tmp_path / "a.txt"
    without_b.write_text("".join(f"{w} nz\n" for w in seen), encoding="utf8")
    with_b = tmp_path / "ab.txt"
    with_b.write_text("".join(f"{w} nz\n" for w in seen + unseen), encoding="utf8")
    r_without = recall(train(without_b, train_data), test_data)
    r_with = recall(train(with_b, train_data), test_data)
    print(f"recall on unseen names: {r_without:.3f} without them in the user dictionary, {r_with:.3f} with")
    assert r_with > r_without + 0.2
