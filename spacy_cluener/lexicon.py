"""A word dictionary for lexicon features, and vectorised matching of it in text.

Chinese NER without pretrained vectors gains from knowing which dictionary
words cover each character (SoftLexicon, Ma et al. 2020): word boundaries are
what the model gets wrong on `address` and `scene`. The dictionary is stored
in the pipeline (`to_bytes`), so predictions never depend on the installed
jieba, and loading needs no jieba.

Matching is vectorised: every substring of length 1..max_length of the whole
batch gets a 64-bit polynomial hash in one numpy pass per length, looked up
with `searchsorted` in the sorted hashes of the dictionary. No Python loop
runs per character.
"""
import re
import warnings
from collections import Counter
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
import srsly

from .errors import Errors, Warnings

# jieba's part-of-speech tags, folded into the classes that matter for NER
POS_CLASSES = ("other", "person", "place", "organisation", "proper", "noun", "verb")
_TAG_PREFIXES = (("nr", "person"), ("ns", "place"), ("nt", "organisation"), ("nz", "proper"),
                 ("n", "noun"), ("v", "verb"))
# A user-dictionary word without a frequency counts as a common word
DEFAULT_USER_FREQ = 1000
# jieba's own format: "word [freq] [tag]" (jieba.load_userdict). As in jieba,
# the word is the shortest prefix that leaves a valid "[freq] [tag]" tail, so a
# word may hold spaces ("New York 10 ns"); a bare "New York" reads as the word
# "New" with tag "York", as jieba reads it.
_TAG = r"[A-Za-z_]+"
_LINE = re.compile(r"^(.+?)(?:\s+(\d+(?:\.\d+)?))?(?:\s+(" + _TAG + r"))?$")
# A word's last field that looks like a number was meant as a frequency that
# is not one ("上海 -5", "上海 1e39"): an error, not a word with a space.
_NUMBER_LIKE = re.compile(r"[-+]?\.?\d[\d.,eE+-]*")
# "#" then whitespace (or nothing): a comment. "#井号 10" is a word, as in jieba.
_COMMENT = re.compile(r"^#(\s|$)")
# Frequencies are stored as float32: a larger one would be inf, and the
# SoftLexicon weights NaN.
MAX_FREQ = float(numpy.finfo("float32").max)
_P = numpy.uint64(0x100000001B3)
_LEN_MIX = numpy.uint64(0x9E3779B97F4A7C15)


def pos_class(tag: Optional[str]) -> int:
    """Index in POS_CLASSES of a jieba POS tag (nr/nrt/nrfg -> person, ...)."""
    tag = (tag or "").lower()
    for prefix, name in _TAG_PREFIXES:
        if tag.startswith(prefix):
            return POS_CLASSES.index(name)
    return 0


def jieba_dictionary_path() -> Path:
    """jieba's dict.txt, found without importing jieba (its import has side effects)."""
    spec = find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(Errors.E040)
    return Path(list(spec.submodule_search_locations)[0]) / "dict.txt"


def read_dictionary(path: Path, user: bool) -> Iterable[Tuple[str, float, int, bool]]:
    """Yield (word, frequency, POS class, user flag) of a jieba-format file.

    Blank lines and comments ('#' then whitespace) are skipped; anything else
    that is not `word [freq] [tag]` (UTF-8), or a frequency float32 cannot
    hold, is an error naming the file and line. A frequency of 0 is yielded:
    `Lexicon` removes the word, as jieba does.
    """
    if not Path(path).is_file():
        raise ValueError(Errors.E043.format(path=path))
    # Decoded line by line, so that a file in another encoding (GBK) is an
    # error naming its first undecodable line.
    for i, raw in enumerate(Path(path).read_bytes().splitlines(), 1):
        try:
            line = raw.decode("utf8")
        except UnicodeDecodeError as err:
            raise ValueError(Errors.E039.format(path=path, line=i, err=err)) from None
        line = line.lstrip("\ufeff").strip()
        if not line or _COMMENT.match(line):
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(Errors.E041.format(path=path, line=i, text=line[:40]))
        word, freq, tag = m.groups()
        if word.split()[-1] != word and _NUMBER_LIKE.fullmatch(word.split()[-1]):
            raise ValueError(Errors.E041.format(path=path, line=i, text=line[:40]))
        freq = (DEFAULT_USER_FREQ if user else 1) if freq is None else float(freq)
        if freq > MAX_FREQ:
            raise ValueError(Errors.E042.format(where=f"{path}:{i}: ", word=word, freq=freq))
        yield word, freq, pos_class(tag), user


@lru_cache(maxsize=2)
def _read_cached(path: str, mtime: float) -> Tuple[Tuple[str, float, int, bool], ...]:
    return tuple(read_dictionary(Path(path), user=False))


def read_main_dictionary(path: Path) -> Tuple[Tuple[str, float, int, bool], ...]:
    """The main dictionary, parsed once per process (jieba's takes ~2 s)."""
    if not Path(path).is_file():
        raise ValueError(Errors.E043.format(path=path))
    return _read_cached(str(Path(path).resolve()), Path(path).stat().st_mtime)


def entity_wordlist(
    entities: Iterable[Tuple[str, str]], tags: Dict[str, str], default_tag: str = "nz"
) -> Tuple[List[str], Counter]:
    """User-dictionary lines `word tag` for the distinct texts of labelled
    entities, given as (text, label) pairs, sorted by word.

    A text gets the tag of its label at its first occurrence (`tags`, else
    `default_tag`). Texts a dictionary line cannot hold, with whitespace in
    them or a leading '#' (read as a comment), are left out and counted, so
    entities = written + duplicates + rejected.
    """
    for tag in [default_tag, *tags.values()]:
        if not re.fullmatch(_TAG, tag):
            raise ValueError(Errors.E044.format(tag=tag))
    words: Dict[str, str] = {}
    counts: Counter = Counter()
    for text, label in entities:
        counts["entities"] += 1
        if not text or any(c.isspace() for c in text):
            counts["rejected: empty or whitespace inside"] += 1
        elif text.startswith("#"):
            counts["rejected: starts with '#'"] += 1
        elif text in words:
            counts["duplicates"] += 1
        else:
            words[text] = tags.get(label, default_tag)
    counts["written"] = len(words)
    return [f"{word} {tag}" for word, tag in sorted(words.items())], counts


def hash_codes(codes: numpy.ndarray, length: int) -> numpy.ndarray:
    """Keys of all substrings of `length` of a uint64 code array (N,) -> (N-length+1,)."""
    n = codes.shape[0] - length + 1
    if n <= 0:
        return numpy.zeros((0,), dtype="uint64")
    with numpy.errstate(over="ignore"):
        h = numpy.zeros((n,), dtype="uint64")
        for k in range(length):
            h = h * _P + codes[k : k + n] + numpy.uint64(1)
        return h ^ (numpy.uint64(length) * _LEN_MIX)


def text_codes(text: str) -> numpy.ndarray:
    return numpy.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype("uint64")


class Lexicon:
    """Words with frequency, POS class and a user-dictionary flag.

    The sorted word hashes are rebuilt from the words on load, so only the
    words themselves are stored.
    """

    def __init__(self, entries: Iterable[Tuple[str, float, int, bool]] = (), max_length: int = 8):
        self.max_length = max_length
        by_word = {}
        self.n_too_long = 0
        # user-dictionary words left out for their length, reported by from_files
        self.user_too_long: List[str] = []
        for word, freq, cls, user in entries:
            if len(word) > max_length:
                self.n_too_long += 1
                if user:
                    self.user_too_long.append(word)
                continue
            if not 0 <= freq <= MAX_FREQ:  # also NaN
                raise ValueError(Errors.E042.format(where="", word=word, freq=freq))
            if freq == 0:
                # jieba's way to delete a word (its del_word adds it with 0)
                by_word.pop(word, None)
            else:
                by_word[word] = (freq, cls, user)  # later entries (user dictionaries) win
        self.words: List[str] = list(by_word)
        values = list(by_word.values())
        self.freqs = numpy.asarray([v[0] for v in values], dtype="float32").reshape((-1,))
        self.classes = numpy.asarray([v[1] for v in values], dtype="uint8").reshape((-1,))
        self.user = numpy.asarray([v[2] for v in values], dtype="bool").reshape((-1,))
        self._index()

    @classmethod
    def from_files(cls, dictionary: Optional[str], user_dictionaries: Sequence[str], max_length: int) -> "Lexicon":
        """dictionary: "jieba" (the installed jieba's dict.txt), a path, or None."""
        def entries():
            if dictionary:
                path = jieba_dictionary_path() if dictionary == "jieba" else Path(dictionary)
                yield from read_main_dictionary(path)
            for path in user_dictionaries:
                yield from read_dictionary(Path(path), user=True)

        lexicon = cls(entries(), max_length=max_length)
        if lexicon.user_too_long:
            warnings.warn(Warnings.W004.format(
                n=len(lexicon.user_too_long), max_length=max_length, example=lexicon.user_too_long[0],
            ), stacklevel=2)
        return lexicon

    def __len__(self) -> int:
        return len(self.words)

    def _index(self) -> None:
        keys = numpy.zeros((len(self.words),), dtype="uint64")
        lengths = numpy.asarray([len(w) for w in self.words], dtype="int64")
        for length in range(1, self.max_length + 1):
            idx = numpy.flatnonzero(lengths == length)
            if len(idx):
                codes = text_codes("".join(self.words[i] for i in idx)).reshape((len(idx), length))
                h = numpy.zeros((len(idx),), dtype="uint64")
                with numpy.errstate(over="ignore"):
                    for k in range(length):
                        h = h * _P + codes[:, k] + numpy.uint64(1)
                    keys[idx] = h ^ (numpy.uint64(length) * _LEN_MIX)
        self.order = numpy.argsort(keys, kind="stable")
        self.sorted_keys = keys[self.order]
        self.keys = keys

    def match(self, codes: numpy.ndarray, ends: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
        """All dictionary words in a batch of concatenated texts.

        codes (N,): character codes of all docs one after another. ends (N,):
        for each position, the end offset of its doc (matches never cross a
        doc). Returns (starts, lengths, word indices), one entry per match.
        """
        empty = numpy.zeros((0,), dtype="int64")
        n = len(codes)
        longest = min(self.max_length, n)
        if len(self.words) == 0 or longest == 0:
            return empty, empty, empty
        # The keys of `hash_codes` of every substring, row `length - 1` for
        # each length, built one length from the previous one (the same uint64
        # arithmetic in the same order, so the same keys), then looked up all
        # at once: a few array operations per batch, not a dozen per length,
        # which is what one short text (`nlp(text)`) pays for.
        padded = numpy.zeros((n + longest,), dtype="uint64")
        padded[:n] = codes
        substring_keys = numpy.empty((longest, n), dtype="uint64")
        running = numpy.zeros((n,), dtype="uint64")
        with numpy.errstate(over="ignore"):
            for length in range(1, longest + 1):
                running *= _P
                running += padded[length - 1 : length - 1 + n]
                running += numpy.uint64(1)
                numpy.bitwise_xor(running, numpy.uint64(length) * _LEN_MIX, out=substring_keys[length - 1])
        flat = substring_keys.ravel()
        pos = numpy.minimum(numpy.searchsorted(self.sorted_keys, flat), len(self.sorted_keys) - 1)
        hit = self.sorted_keys[pos] == flat
        # a match must end inside its own doc (which also drops the
        # substrings that run past the batch's end, built from the padding)
        hit &= (ends[None, :] >= numpy.arange(n)[None, :] + numpy.arange(1, longest + 1)[:, None]).ravel()
        where = numpy.flatnonzero(hit)
        lengths, starts = numpy.divmod(where, n)
        return starts, lengths + 1, self.order[pos[where]]

    def find(self, text: str) -> List[Tuple[int, int, str]]:
        """(start, end, word) of every dictionary word in `text`: for inspection."""
        codes = text_codes(text)
        starts, lengths, words = self.match(codes, numpy.full(len(codes), len(codes)))
        return sorted((int(s), int(s + n), self.words[w]) for s, n, w in zip(starts, lengths, words))

    def to_bytes(self) -> bytes:
        return srsly.msgpack_dumps({
            "max_length": self.max_length,
            "words": "\n".join(self.words),
            "freqs": self.freqs.tobytes(),
            "classes": self.classes.tobytes(),
            "user": self.user.tobytes(),
        })

    def from_bytes(self, data: bytes) -> "Lexicon":
        msg = srsly.msgpack_loads(data)
        self.max_length = msg["max_length"]
        self.words = msg["words"].split("\n") if msg["words"] else []
        self.freqs = numpy.frombuffer(msg["freqs"], dtype="float32").copy()
        self.classes = numpy.frombuffer(msg["classes"], dtype="uint8").copy()
        self.user = numpy.frombuffer(msg["user"], dtype="bool").copy()
        self.n_too_long = 0
        self._index()
        return self
