"""Tag schemes (BIO, BIOES) and the transitions each one allows.

Everything is expressed on top of spaCy's BILUO tags so the library's helpers
(`offsets_to_biluo_tags`, `biluo_tags_to_spans`) do the span work; BIO is
read with `iob_to_biluo` below, spaCy's function made linear. BIOES is BILUO spelled differently: E = L (last), S = U (unit).
The scheme is chosen in the config and stored with the model; it is never
guessed from the tags a model predicts.
"""
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy
from spacy.attrs import ENT_IOB
from spacy.errors import Errors as SpacyErrors
from spacy.tokens import Doc
from spacy.training import offsets_to_biluo_tags

from .errors import Errors

SCHEMES = ("BIO", "BIOES")
# Input spellings the converters accept; BMES is BIOES with M for "inside".
INPUT_SCHEMES = ("BIO", "BIOES", "BMES")
_TO_BILUO = {
    "BIO": {"B": "B", "I": "I"},
    "BIOES": {"B": "B", "I": "I", "E": "L", "S": "U"},
    "BMES": {"B": "B", "M": "I", "E": "L", "S": "U"},
}
_FROM_BILUO = {
    "BIO": {"B": "B", "I": "I", "L": "I", "U": "B"},
    "BIOES": {"B": "B", "I": "I", "L": "E", "U": "S"},
}


def check_scheme(scheme: str, allowed: Sequence[str] = SCHEMES) -> str:
    if scheme not in allowed:
        raise ValueError(Errors.E001.format(scheme=scheme, allowed=", ".join(allowed)))
    return scheme


def split_tag(tag: str) -> Tuple[str, Optional[str]]:
    """Split 'B-PER' into ('B', 'PER'); 'O' into ('O', None). 'O-PER' is
    ill-formed: read as O, its entity would vanish without a word."""
    if tag == "O":
        return "O", None
    prefix, sep, label = tag.partition("-")
    if not sep or not label or not prefix or prefix == "O":
        raise ValueError(Errors.E002.format(tag=tag))
    return prefix, label


def tag_names(labels: Iterable[str], scheme: str) -> List[str]:
    """The model's output classes: 'O' first, then every prefix for every label."""
    check_scheme(scheme)
    prefixes = "BI" if scheme == "BIO" else "BIES"
    return ["O"] + [f"{p}-{label}" for label in labels for p in prefixes]


def scheme_to_biluo(tags: Sequence[str], scheme: str) -> List[str]:
    """Map tags written in `scheme` (BIO, BIOES or BMES) to spaCy BILUO tags.

    BIO goes through `iob_to_biluo` (spaCy's, made linear), which starts a new entity at an
    `I-` that has no `B-` before it (the conlleval convention). For the other
    schemes the prefixes are renamed; `is_valid_biluo` tells if the result is
    well formed. Raises ValueError for a prefix the scheme does not have.
    """
    check_scheme(scheme, INPUT_SCHEMES)
    table = _TO_BILUO[scheme]
    out = []
    for tag in tags:
        prefix, label = split_tag(tag)
        if prefix == "O":
            out.append("O")
        elif prefix in table:
            out.append(f"{table[prefix]}-{label}")
        else:
            raise ValueError(Errors.E003.format(tag=tag, scheme=scheme))
    if scheme == "BIO":
        return iob_to_biluo(out)
    return out


def iob_to_biluo(tags: Iterable[str]) -> List[str]:
    """Exactly `spacy.training.iob_to_biluo`, in linear time.

    spaCy's consumes the list with `list.pop(0)`, which is quadratic in the
    sentence length (a 200,000-token CoNLL sentence took 19 s); this walks an
    index instead. Same rules, edge cases included (tested with hypothesis):
    an entity starts at any tag that is not "O" and continues over the
    following `I-`/`L-` tags of the same label; a one-token entity without a
    label is spaCy's E177.
    """
    tags = list(tags)
    n = len(tags)
    out: List[str] = []
    i = 0
    while i < n:
        while i < n and tags[i] == "O":
            out.append("O")
            i += 1
        if i == n:
            break
        tag = tags[i]
        i += 1
        target_in, target_last = "I" + tag[1:], "L" + tag[1:]
        length = 1
        while i < n and (tags[i] == target_in or tags[i] == target_last):
            length += 1
            i += 1
        label = tag[2:]
        if length == 1:
            if not label:
                raise ValueError(SpacyErrors.E177.format(tag=tag))
            out.append("U-" + label)
        else:
            out.append("B-" + label)
            out.extend(["I-" + label] * (length - 2))
            out.append("L-" + label)
    return out


def gold_biluo(doc: Doc) -> List[str]:
    """The BILUO tags of a gold doc, with "-" where a token is unannotated
    (its ent_iob is 0) and "O" where it is annotated as outside an entity:
    what `Example.get_aligned_ner` gives when the tokens are the same, without
    building the alignment (which spaCy redoes at every update)."""
    offsets = [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
    tags = offsets_to_biluo_tags(doc, offsets, missing="-")
    for i, token in enumerate(doc):
        if token.ent_iob == 2:
            tags[i] = "O"
    return tags


def biluo_to_scheme(tags: Sequence[str], scheme: str) -> List[str]:
    """Map spaCy BILUO tags to the model's scheme (BIO or BIOES)."""
    check_scheme(scheme)
    table = _FROM_BILUO[scheme]
    out = []
    for tag in tags:
        prefix, label = split_tag(tag)
        out.append("O" if prefix == "O" else f"{table[prefix]}-{label}")
    return out


def _parts(tag: str, scheme: str) -> Tuple[str, Optional[str]]:
    """Prefix in BILUO terms, and label."""
    prefix, label = split_tag(tag)
    if prefix == "O":
        return "O", None
    if scheme == "BILUO":
        return prefix, label
    return _TO_BILUO[scheme][prefix], label


# The functions below take scheme "BIO", "BIOES", or "BILUO" (spaCy's own tags).


def allowed_start(tag: str, scheme: str) -> bool:
    prefix, _ = _parts(tag, scheme)
    return prefix in ("O", "B", "U")


def allowed_end(tag: str, scheme: str) -> bool:
    prefix, _ = _parts(tag, scheme)
    if scheme == "BIO":
        return True
    return prefix in ("O", "L", "U")


def allowed_transition(prev: str, nxt: str, scheme: str) -> bool:
    """Whether tag `nxt` may follow tag `prev` in `scheme`."""
    p_prefix, p_label = _parts(prev, scheme)
    n_prefix, n_label = _parts(nxt, scheme)
    if scheme == "BIO":
        if n_prefix == "I":
            return p_prefix in ("B", "I") and p_label == n_label
        return True
    # BIOES / BILUO: inside an entity only I or L of the same label may follow.
    if p_prefix in ("B", "I"):
        return n_prefix in ("I", "L") and p_label == n_label
    return n_prefix in ("O", "B", "U")


def is_valid_biluo(tags: Sequence[str]) -> Optional[int]:
    """Index of the first tag that makes a BILUO sequence ill-formed, or None."""
    if not tags:
        return None
    if not allowed_start(tags[0], "BILUO"):
        return 0
    for i in range(1, len(tags)):
        if not allowed_transition(tags[i - 1], tags[i], "BILUO"):
            return i
    if not allowed_end(tags[-1], "BILUO"):
        return len(tags)
    return None


def known_tags_mask(
    biluo: Sequence[Optional[str]], tag_names: Sequence[str], scheme: str
) -> "numpy.ndarray":
    """(length, n_tags) bool: the tags each token may take, given BILUO tags
    with None or "-" where a token's tag is unknown (it may take any tag).

    A known tag allows only itself (in `scheme`), or only "O" if its label is
    not among `tag_names`. In BIO an entity's end is not written on its last
    token: an unknown token right after a known entity of label X may not be
    I-X, which would extend it. The other neighbour rules are the scheme's
    transitions, which the CRF enforces.
    """
    index = {name: i for i, name in enumerate(tag_names)}
    out = numpy.ones((len(biluo), len(tag_names)), dtype=bool)
    for i, tag in enumerate(biluo):
        if tag is None or tag == "-":
            if scheme == "BIO" and i > 0 and biluo[i - 1] not in (None, "-", "O"):
                prefix, label = split_tag(biluo[i - 1])
                cont = index.get(f"I-{label}")
                if prefix in ("L", "U") and cont is not None:
                    out[i, cont] = False
            continue
        out[i] = False
        out[i, index.get(biluo_to_scheme([tag], scheme)[0], index["O"])] = True
    return out


def preset_biluo(doc: Doc) -> Optional[List[Optional[str]]]:
    """The BILUO tags that entities set before a recognizer runs impose, as
    spaCy's `ner` reads them (`_parser_internals/ner.pyx`, each move's
    `is_valid`): a token of a preset entity keeps its tag, a blocked token
    (`doc.set_ents(blocked=...)`: ent_iob B, no label) is "O"; None for a
    token the recognizer decides (ent_iob missing or O). None if no token of
    the doc is preset or blocked."""
    # One array read decides the common case (no preset token): no Python
    # loop over the tokens, which ran twice per doc in `crf_ner`.
    iob_array = doc.to_array(ENT_IOB)
    if not ((iob_array == 1) | (iob_array == 3)).any():
        return None
    iob = iob_array.tolist()
    out: List[Optional[str]] = []
    for i, token in enumerate(doc):
        inside_next = i + 1 < len(iob) and iob[i + 1] == 1
        if iob[i] == 3 and not token.ent_type:
            out.append("O")
        elif iob[i] == 3:
            out.append(("B-" if inside_next else "U-") + token.ent_type_)
        elif iob[i] == 1:
            out.append(("I-" if inside_next else "L-") + token.ent_type_)
        else:
            out.append(None)
    return out
