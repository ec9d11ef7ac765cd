"""configs/cnn_crf_fast.cfg: the default config with a leaner CNN and nothing
else changed (so the default's recipe, steps and results apply to it), and a
pipeline that builds, trains and predicts from it."""
from spacy.util import load_config
from thinc.api import fix_random_seed

from ..util import CNN_CONFIG, REPO, flat_config, make_examples

FAST_CONFIG = REPO / "configs" / "cnn_crf_fast.cfg"
LEAN = {"components.tok2vec.model.encode.width": 96, "components.tok2vec.model.encode.maxout_pieces": 2}


def test_only_the_encoder_differs_from_the_default():
    base = flat_config(load_config(CNN_CONFIG, interpolate=False))
    fast = flat_config(load_config(FAST_CONFIG, interpolate=False))
    changed = {k for k in base.keys() | fast.keys() if base.get(k) != fast.get(k)}
    assert changed == set(LEAN)
    assert {k: fast[k] for k in LEAN} == LEAN


def test_builds_trains_and_predicts():
    import spacy

    config = load_config(FAST_CONFIG, overrides={"components.tok2vec.model.embed.char_rows": 1000,
                                                 "components.tok2vec.model.embed.bigram_rows": 1000}, interpolate=False)
    fix_random_seed(0)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    assert nlp.get_pipe("tok2vec").model.get_dim("nO") == 96
    losses = []
    for _ in range(30):
        step = {}
        nlp.update(examples, sgd=optimizer, losses=step, drop=0.0)
        losses.append(step["crf_ner"])
    assert losses[-1] < 0.5 * losses[0]
    docs = list(nlp.pipe([eg.reference.text for eg in examples]))
    assert sum(len(doc.ents) for doc in docs) > 0
