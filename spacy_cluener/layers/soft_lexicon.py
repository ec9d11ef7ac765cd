"""SoftLexicon features (Ma et al., ACL 2020): the dictionary words over each character.

For each character, the matched dictionary words in which it is the Begin,
Middle or End of the word, or the Single-character word itself, form four
sets. Each set is the frequency-weighted sum of hashed word embeddings,
weighted as in the paper: z(w) / Z * 4, with Z the total weight of all words
over that character; z(w) = log(1 + dictionary frequency), so the very
frequent words do not drown the rest. An empty set gets a learned NONE
vector. With `pos_classes`, each set also gets the same-weighted
distribution of the words' POS classes (person, place, organisation, proper
noun, ... from jieba's tags) and the share of user-dictionary words: dense
columns, no parameters.

The dictionary is read once, in `initialize` (so a loaded pipeline needs no
jieba and no dictionary files), and stored with the weights.
"""
from typing import Dict, List, Optional, Sequence

import numpy
from spacy.attrs import LENGTH, ORTH
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import HashEmbed, Model
from thinc.model import deserialize_attr, serialize_attr
from thinc.types import Floats2d

from ..lexicon import POS_CLASSES, Lexicon

N_ROLES = 4  # Begin, Middle, End, Single
_NONE_KEY = numpy.uint64(0x4E4F4E45)  # "NONE"


@registry.architectures("spacy_cluener.SoftLexicon.v1")
def build_soft_lexicon(
    width: int = 32,
    rows: int = 50000,
    max_word_length: int = 8,
    dictionary: Optional[str] = "jieba",
    user_dictionaries: Sequence[str] = (),
    pos_classes: bool = True,
) -> Model[List[Doc], List[Floats2d]]:
    """width (int): width of the hashed word embeddings (one per role).
    rows (int): rows of their hash table. max_word_length (int): longest word
    matched. dictionary (Optional[str]): "jieba" (the installed jieba's
    dict.txt, read at initialize), a path to a file in jieba's format
    (`word [freq] [tag]`), or null. user_dictionaries (List[str]): more files
    in that format, read after the dictionary (their entries win); a word
    without a frequency counts DEFAULT_USER_FREQ. pos_classes (bool): add the
    POS-class and user-word share of each set.
    """
    n_pos = len(POS_CLASSES) + 1 if pos_classes else 0
    embed = HashEmbed(width, rows, column=0, seed=41, dropout=0.0)
    return Model(
        "soft_lexicon",
        _forward,
        init=_init,
        layers=[embed],
        dims={"nO": N_ROLES * (width + n_pos)},
        attrs={
            "lexicon": Lexicon(max_length=max_word_length),
            "dictionary": dictionary,
            "user_dictionaries": list(user_dictionaries),
            "max_word_length": max_word_length,
            "n_pos": n_pos,
        },
    )


def _init(model: Model, X=None, Y=None) -> Model:
    attrs = model.attrs
    attrs["lexicon"] = Lexicon.from_files(attrs["dictionary"], attrs["user_dictionaries"], attrs["max_word_length"])
    model.layers[0].initialize()
    return model


def doc_codes(docs: List[Doc]) -> "tuple[numpy.ndarray, numpy.ndarray]":
    """Character codes of all tokens of a batch, and each position's doc end.

    A token of more than one character (e.g. a run of spaces) gets its ORTH
    hash, which no dictionary word matches. A one-character token's code is
    its character's code point, read from its ORTH string (cached per ORTH
    hash): the code of `doc.text` at its offset, without building
    `doc.text`, which creates a Token object per character.
    """
    codes, ends, offset = [], [], 0
    for doc in docs:
        attrs = doc.to_array([LENGTH, ORTH]).reshape((len(doc), 2)).astype("uint64")
        c = attrs[:, 1].copy()
        single = numpy.flatnonzero(attrs[:, 0] == 1)
        if len(single):
            c[single] = _char_codes(attrs[single, 1].tolist(), doc.vocab.strings)
        codes.append(c)
        offset += len(doc)
        ends.append(numpy.full(len(doc), offset, dtype="int64"))
    if not codes:
        return numpy.zeros((0,), dtype="uint64"), numpy.zeros((0,), dtype="int64")
    return numpy.concatenate(codes), numpy.concatenate(ends)


# ORTH hash of a one-character string -> its code point. The hash is a
# function of the string alone (the same in every vocab), and there are as
# many entries as distinct characters seen.
_CHAR_CODE: Dict[int, int] = {}


def _char_codes(orths: List[int], strings) -> List[int]:
    out = []
    for orth in orths:
        code = _CHAR_CODE.get(orth)
        if code is None:
            code = _CHAR_CODE[orth] = ord(strings[orth])
        out.append(code)
    return out


def lexicon_entries(lexicon: Lexicon, codes: numpy.ndarray, ends: numpy.ndarray):
    """(row, word, weight): one entry per (character, role, matched word).

    row = character * 4 + role; word = -1 for the NONE entry of an empty set.
    """
    n = len(codes)
    starts, lengths, words = lexicon.match(codes, ends)
    rows, idx = [], []
    single = lengths == 1
    rows.append(starts[single] * N_ROLES + 3)
    idx.append(words[single])
    multi = numpy.flatnonzero(~single)
    s, ln, w = starts[multi], lengths[multi], words[multi]
    rows.append(s * N_ROLES + 0)
    idx.append(w)
    rows.append((s + ln - 1) * N_ROLES + 2)
    idx.append(w)
    for offset in range(1, lexicon.max_length - 1):
        inner = ln > offset + 1
        rows.append((s[inner] + offset) * N_ROLES + 1)
        idx.append(w[inner])
    rows = numpy.concatenate(rows).astype("int64")
    idx = numpy.concatenate(idx).astype("int64")
    z = numpy.log1p(lexicon.freqs[idx]).astype("float32") if len(idx) else numpy.zeros((0,), "float32")
    total = numpy.zeros((n,), dtype="float32")
    numpy.add.at(total, rows // N_ROLES, z)
    weight = z / numpy.maximum(total[rows // N_ROLES], 1e-6) * N_ROLES
    empty = numpy.ones((n * N_ROLES,), dtype="bool")
    empty[rows] = False
    none_rows = numpy.flatnonzero(empty)
    rows = numpy.concatenate([rows, none_rows])
    idx = numpy.concatenate([idx, numpy.full(len(none_rows), -1, dtype="int64")])
    weight = numpy.concatenate([weight, numpy.ones(len(none_rows), dtype="float32")])
    return rows, idx, weight


def _forward(model: Model, docs: List[Doc], is_train: bool):
    ops = model.ops
    lexicon: Lexicon = model.attrs["lexicon"]
    n_pos = model.attrs["n_pos"]
    embed = model.layers[0]
    width = embed.get_dim("nO")
    codes, ends = doc_codes(docs)
    n = len(codes)
    rows, idx, weight = lexicon_entries(lexicon, codes, ends)
    keys = numpy.where(idx >= 0, lexicon.keys[numpy.maximum(idx, 0)] if len(lexicon) else 0, _NONE_KEY)
    vectors, bp_embed = embed(ops.asarray2i(keys.reshape((-1, 1)).astype("uint64"), dtype="uint64"), is_train)
    weight_d = ops.asarray1f(weight).reshape((-1, 1))
    rows_d = ops.asarray1i(rows.astype("int32"))
    table = ops.alloc2f(n * N_ROLES, width)
    ops.scatter_add(table, rows_d, vectors * weight_d)
    output = table.reshape((n, N_ROLES * width))
    if n_pos:
        dense = numpy.zeros((n * N_ROLES, n_pos), dtype="float32")
        known = idx >= 0
        numpy.add.at(dense, (rows[known], lexicon.classes[idx[known]].astype("int64")), weight[known])
        numpy.add.at(dense, (rows[known], n_pos - 1), weight[known] * lexicon.user[idx[known]])
        output = ops.xp.hstack([output, ops.asarray2f(dense.reshape((n, N_ROLES * n_pos)))])
    lengths = [len(doc) for doc in docs]
    splits = numpy.cumsum(lengths)[:-1]
    Y = ops.xp.split(output, splits) if docs else []

    def backprop(dY: List[Floats2d]) -> List[Doc]:
        d_out = ops.xp.vstack(dY) if dY else ops.alloc2f(0, model.get_dim("nO"))
        d_table = ops.xp.ascontiguousarray(d_out[:, : N_ROLES * width]).reshape((n * N_ROLES, width))
        bp_embed(d_table[rows_d] * weight_d)
        return []

    return [ops.xp.ascontiguousarray(y) for y in Y], backprop


@serialize_attr.register(Lexicon)
def serialize_lexicon(_, value: Lexicon, name: str, model: Model) -> bytes:
    return value.to_bytes()


@deserialize_attr.register(Lexicon)
def deserialize_lexicon(_, value: bytes, name: str, model: Model) -> Lexicon:
    return Lexicon().from_bytes(value)
