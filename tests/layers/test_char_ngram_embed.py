"""CharNgramEmbed reads one character per token, and says so when it gets words."""
import warnings

import pytest
import spacy
from spacy.tokens import Doc

from spacy_cluener.layers.char_ngram_embed import build_char_ngram_embed_v2


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("zh")


@pytest.fixture(scope="module")
def embed(nlp):
    model = build_char_ngram_embed_v2(width=8, char_rows=50, bigram_rows=50, shape_rows=10)
    model.initialize(X=[nlp("张三在北京")])
    return model


def test_word_tokens_warn_w006(nlp, embed):
    doc = Doc(nlp.vocab, words=["张三", "在", "北京"], spaces=[False, False, False])
    with pytest.warns(UserWarning, match=r"\[W006\].*'张三'"):
        embed.predict([doc])


@pytest.mark.parametrize("text", ["张三在北京", "Apple公司  在 2024年\u3000上市。", "", "   "])
def test_char_tokens_do_not_warn(nlp, embed, text):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        embed.predict([nlp(text)])


def test_training_and_pretrains_mask_do_not_warn(nlp, embed):
    """A corpus of word tokens is the user's choice when training; `spacy
    pretrain` puts "[MASK]" in place of tokens (both warned before)."""
    words = Doc(nlp.vocab, words=["张三", "在", "北京"], spaces=[False, False, False])
    masked = Doc(nlp.vocab, words=["张", "[MASK]", "在"], spaces=[False, False, False])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        embed.begin_update([words])
        embed.predict([masked])
