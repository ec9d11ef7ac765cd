"""Hashed embeddings of a character and its neighbouring character bigrams.

With one token per character, spaCy's `MultiHashEmbed` attributes (NORM,
PREFIX, SUFFIX, SHAPE) all collapse to the character itself. Character
bigrams are the standard cheap feature of Chinese NER without pretrained
vectors (Zhang & Yang 2018, "char + bichar"): each token also gets the
embedding of (previous char, char) and (char, next char). Same structure as
`spacy.MultiHashEmbed.v2`: a feature extractor, one `HashEmbed` per column,
concatenated and mixed by a Maxout layer.
"""
import warnings
from typing import List, Optional

import numpy
from spacy.attrs import LENGTH, ORTH, SHAPE
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import (
    HashEmbed,
    Maxout,
    Model,
    chain,
    concatenate,
    list2ragged,
    ragged2list,
    with_array,
)
from thinc.types import Floats2d, Ints2d

from ..errors import Warnings

_MIX = numpy.uint64(0x9E3779B97F4A7C15)
_BOUNDARY = numpy.uint64(0x5DEECE66D)
# what spacy pretrain's masking objective puts in place of a token
_PRETRAIN_MASK = "[MASK]"


@registry.architectures("spacy_cluener.CharNgramEmbed.v1")
def build_char_ngram_embed(
    width: int,
    char_rows: int,
    bigram_rows: int,
    shape_rows: int = 1000,
    embed_width: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """width (int): output width. char_rows / bigram_rows / shape_rows (int):
    hash-table rows for the character, each of its two bigrams, and its SHAPE
    (which tells digits and Latin letters apart). embed_width (Optional[int]):
    width of each table, default `width`. Narrow tables matter on CPU: the
    optimizer updates every row of every table at every step, and with
    100k-row tables that, not the CNN, dominates the training time.
    """
    embed_width = embed_width or width
    embeddings = char_tables(embed_width, char_rows, bigram_rows, shape_rows)
    model = chain(
        Model("char_ngram_features", _features),
        list2ragged(),
        with_array(concatenate(*embeddings)),
        with_array(Maxout(width, embed_width * len(embeddings), nP=3, dropout=0.0, normalize=True)),
        ragged2list(),
    )
    model.set_dim("nO", width)
    return model


@registry.architectures("spacy_cluener.CharNgramEmbed.v2")
def build_char_ngram_embed_v2(
    width: int,
    char_rows: int,
    bigram_rows: int,
    shape_rows: int = 1000,
    embed_width: Optional[int] = None,
    lexicon: Optional[Model[List[Doc], List[Floats2d]]] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """As v1, and `lexicon` (e.g. spacy_cluener.SoftLexicon.v1): per-character
    features concatenated to the character and bigram embeddings before the
    Maxout that mixes them.
    """
    embed_width = embed_width or width
    embeddings = char_tables(embed_width, char_rows, bigram_rows, shape_rows)
    chars = chain(
        Model("char_ngram_features", _features),
        list2ragged(),
        with_array(concatenate(*embeddings)),
        ragged2list(),
    )
    n_in = embed_width * len(embeddings)
    if lexicon is not None:
        chars = concatenate(chars, lexicon)
        n_in += lexicon.get_dim("nO")
    model = chain(
        chars,
        with_array(Maxout(width, n_in, nP=3, dropout=0.0, normalize=True)),
    )
    model.set_dim("nO", width)
    if lexicon is not None:
        model.set_ref("lexicon", lexicon)
    return model


def char_tables(embed_width: int, char_rows: int, bigram_rows: int, shape_rows: int) -> List[Model]:
    """One HashEmbed per feature column: character, left and right bigram, SHAPE."""
    rows = [char_rows, bigram_rows, bigram_rows, shape_rows]
    return [HashEmbed(embed_width, n, column=i, seed=11 + i, dropout=0.0) for i, n in enumerate(rows)]


def ngram_keys(orth: numpy.ndarray) -> "tuple[numpy.ndarray, numpy.ndarray]":
    """Keys for (previous, this) and (this, next) character pairs."""
    padded = numpy.concatenate([[_BOUNDARY], orth, [_BOUNDARY]]).astype("uint64")
    with numpy.errstate(over="ignore"):
        left = padded[:-2] * _MIX ^ padded[1:-1]
        right = padded[1:-1] * _MIX ^ padded[2:]
    return left, right


def _features(model: Model, docs: List[Doc], is_train: bool):
    out: List[Ints2d] = []
    for doc in docs:
        attrs = doc.to_array([ORTH, SHAPE, LENGTH]).astype("uint64").reshape((len(doc), 3))
        if not is_train and len(doc) and attrs[:, 2].max() > 1:
            _warn_if_word_tokens(doc)
        left, right = ngram_keys(attrs[:, 0])
        cols = numpy.stack([attrs[:, 0], left, right, attrs[:, 1]], axis=1)
        out.append(model.ops.asarray2i(cols, dtype="uint64"))
    return out, lambda dY: []


def _warn_if_word_tokens(doc: Doc) -> None:
    """W006, at prediction, when a token holds more than one non-space
    character: the zh "char" segmenter gives each its own token (only
    whitespace runs are longer), so such a token is a word, which this layer
    would hash as if it were one character while the pipeline said nothing.
    Training is left alone (a corpus tokenized the same way is the user's
    choice), and so is "[MASK]", the token `spacy pretrain` puts in."""
    for token in doc:
        if len(token) > 1 and not token.is_space and token.text != _PRETRAIN_MASK:
            warnings.warn(Warnings.W006.format(n=len(token), token=token.text), stacklevel=2)
            return
