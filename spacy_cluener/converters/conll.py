"""Token-per-line tagged text (MSRA's train.txt/test.txt, CoNLL-style) -> Docs.

Each line is a token and its tag, separated by a TAB or by spaces, tag last;
a blank line ends a sentence. Tags may be BIO, BIOES or BMES (M = inside);
they are read into spaCy BILUO with the library helpers. The doc text is the
tokens joined without spaces (character-level Chinese); tokens of several
characters (a word-segmented file) are kept, with one note per file.

An `I-X` that does not continue an `X` entity (BIO only) starts a new entity,
as conlleval and seqeval read it; every such repair is reported as a note.
In BIOES/BMES an ill-formed sequence rejects the sentence.
"""
from functools import lru_cache, partial
from typing import Callable, Iterator, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.training import biluo_tags_to_spans
from spacy.vocab import Vocab

from ..tag_schemes import INPUT_SCHEMES, check_scheme, is_valid_biluo, scheme_to_biluo
from .cluener import check_unicode, utf16_hint
from .records import ConversionReport, RecordError, check_length

Row = Tuple[str, str, int]  # token, tag, line number


def read_conll(
    path: str, vocab: Vocab, scheme: str, report: ConversionReport, max_length: int = 1_000_000
) -> Iterator[Doc]:
    """Yield a Doc per sentence of a token-per-line file, reporting the rest.

    max_length (int): the pipeline's `nlp.max_length`; a longer sentence is
        rejected, since `spacy.Corpus` would fail on it (E088) in training.
    """
    check_scheme(scheme, INPUT_SCHEMES)
    return report.convert(_records(path, vocab, scheme, report, max_length))


def _records(
    path: str, vocab: Vocab, scheme: str, report: ConversionReport, max_length: int
) -> Iterator[Tuple[int, Callable[[], Doc]]]:
    for rows, error in _sentences(path, report):
        if error is not None:
            yield error[0], partial(_raise, error[1])
        else:
            yield rows[0][2], partial(sentence_to_doc, rows, vocab, scheme, report, max_length)


def _raise(reason: str) -> Optional[Doc]:
    raise RecordError(reason)


def _sentences(path: str, report: ConversionReport) -> Iterator[Tuple[List[Row], Tuple[int, str]]]:
    """Group lines into sentences; a sentence with a bad line carries the error."""
    rows: List[Row] = []
    error = None
    words: List[Tuple[int, str]] = []  # (line, token) of each token of several characters
    # surrogateescape: bytes that are not UTF-8 reject their sentence, not the file
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline=None) as file_:
        for line_no, line in enumerate(file_, start=1):
            line = line.rstrip("\r\n")
            # read as UTF-8, a blank line of a UTF-16 file is a NUL: still a sentence break
            if not line.strip(" \t\x00"):
                if rows or error:
                    yield rows, error
                rows, error = [], None
                continue
            if line.split() and line.split()[0] == "-DOCSTART-":
                # CoNLL-2003's document separator: a boundary, not a token
                report.note(line_no, "-DOCSTART- line skipped (a document separator, not a token)")
                if rows or error:
                    yield rows, error
                rows, error = [], None
                continue
            if error is not None:
                continue
            hint = utf16_hint(line)
            if hint:
                error = (line_no, f"line {line!r:.40} is not UTF-8 text{hint}")
                continue
            try:
                check_unicode(line, "line")
            except RecordError as err:
                error = (line_no, str(err))
                continue
            # trailing spaces or TABs are not a (last, empty) column
            line = line.rstrip(" \t")
            if "\t" in line:
                fields = line.split("\t")
                # `张 \tB-PER`: the space belongs to the separator, not the token
                # (a token of spaces only, the text's own space, is kept)
                token, tag = fields[0].strip(" ") or fields[0], fields[-1].strip()
            else:
                fields = line.split()
                # a line of Unicode-only whitespace (U+3000) splits into nothing
                token, tag = (fields[0], fields[-1]) if fields else (line, "")
            if len(fields) < 2 or not tag:
                error = (line_no, f"line has a token but no tag: {line!r}")
            elif token == "":
                error = (line_no, f"line has a tag but no token: {line!r}")
            else:
                rows.append((token, tag, line_no))
                if len(token) > 1 and not token.isspace():
                    words.append((line_no, token))
    if rows or error:
        yield rows, error
    if words:
        _note_words(words, report)


def _note_words(words: List[Tuple[int, str]], report: ConversionReport) -> None:
    """One note per file for tokens of several characters (a word-segmented
    file, or a token with a space inside): the format is one character per
    line. They are kept as tokens; training re-splits the text into
    characters and aligns the entities by offsets, so no entity is lost,
    but a tag that was meant per character is not what the file holds."""
    line_no, token = words[0]
    more = f", and {len(words) - 1} more token(s) of several characters in this file" if len(words) > 1 else ""
    report.note(line_no, f"token {token!r} has {len(token)} characters{more}: the format is one character per "
                         "line (is the file word-segmented?); kept as tokens, and training aligns their "
                         "entities to the pipeline's characters")


def sentence_to_doc(
    rows: List[Row], vocab: Vocab, scheme: str, report: ConversionReport, max_length: int = 1_000_000
) -> Doc:
    words = [token for token, _, _ in rows]
    check_length("".join(words), max_length, "the sentence")
    tags = [tag for _, tag, _ in rows]
    for _, tag, line_no in rows:
        if not _known_tag(tag, scheme):
            raise RecordError(f"line {line_no}: unknown tag '{tag}' for the {scheme} scheme")
    report.entities_read += sum(1 for t in tags if t[0] in "BS")
    if scheme == "BIO":
        _note_orphan_inside(rows, report)
    biluo = scheme_to_biluo(tags, scheme)
    if scheme != "BIO":
        bad = is_valid_biluo(biluo)
        if bad is not None:
            where = rows[min(bad, len(rows) - 1)][2]
            prev = tags[bad - 1] if bad > 0 else "<start>"
            nxt = tags[bad] if bad < len(tags) else "<end>"
            raise RecordError(f"line {where}: illegal {scheme} sequence {prev} -> {nxt}")
    doc = Doc(vocab, words=words, spaces=[False] * len(words))
    doc.ents = biluo_tags_to_spans(doc, biluo)
    return doc


@lru_cache(maxsize=None)
def _known_tag(tag: str, scheme: str) -> bool:
    try:
        scheme_to_biluo([tag], scheme)
    except ValueError:
        return False
    return True


def _note_orphan_inside(rows: List[Row], report: ConversionReport) -> None:
    prev = "O"
    for _, tag, line_no in rows:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            report.note(line_no, f"{tag} without a preceding B-/I- of that type starts a new entity")
            report.entities_read += 1
        prev = tag if tag != "O" else "O"
