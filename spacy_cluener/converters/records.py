"""What a converter did with each record: written, rejected (why), or changed (how).

Every converter fills one of these so that `read == written + rejected` can be
checked and printed; nothing is dropped without a line saying so.
"""
import json
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, List, Tuple

from spacy.tokens import Doc, Span

from ..errors import Errors


class RecordError(ValueError):
    """A record that cannot be converted; the message is the reason."""


def json_lines(path: str, fmt: str, hint: str = "") -> Iterator[Tuple[int, str]]:
    """(line number, line) of each non-blank line of a JSON-lines file.

    RAISES (ValueError): the file is a JSON array (E087), which would
        otherwise give one rejection per physical line and a wrong count
        (an array broken or cut off still is, at its lines).
    """
    first = True
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline=None) as file_:
        for line_no, line in enumerate(file_, start=1):
            if not line.strip():
                continue
            if first and line.lstrip("\ufeff").lstrip().startswith("[") and _is_json_array(path):
                raise ValueError(Errors.E087.format(path=path, line=line_no, fmt=fmt, hint=hint))
            first = False
            yield line_no, line


def _is_json_array(path: str) -> bool:
    """Whether the whole file is one JSON array: a broken first line that
    starts with '[' is a rejected record of a JSON-lines file, not this."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as file_:
        try:
            return isinstance(json.loads(file_.read().lstrip("\ufeff")), list)
        except (ValueError, RecursionError):
            return False


def check_length(text: str, max_length: int, what: str = "text") -> None:
    """Reject a text longer than `nlp.max_length` as one record: spaCy's
    `make_doc` (and `spacy.Corpus`, which re-tokenizes every reference text
    in training) raise E088 for it, which would abort the whole file."""
    if len(text) > max_length:
        raise RecordError(
            f"{what} has {len(text)} characters, more than nlp.max_length ({max_length}), "
            "which spaCy refuses (E088): split it into shorter records, or raise the limit with "
            "--max-length (predict, annotate)"
        )


def whitespace_edge(span: Span) -> bool:
    """Whether a gold entity starts or ends on a whitespace token of its own
    (a leading space, two spaces, a newline): crf_ner never puts such a token
    in an entity, so the entity cannot be predicted as it is written. The
    converters keep it (the gold is the user's) with a note saying so."""
    return span[0].is_space or span[-1].is_space


@dataclass
class ConversionReport:
    path: str
    read: int = 0
    written: int = 0
    # (line, reason) of each rejected record
    rejected: List[Tuple[int, str]] = field(default_factory=list)
    # (line, note) for records written with a change: an entity left out of
    # doc.ents because it overlaps another, an I- tag that starts an entity, ...
    notes: List[Tuple[int, str]] = field(default_factory=list)
    # entities listed in the written records (duplicates and overlaps
    # included), and those in their doc.ents; a rejected record's count none
    entities_read: int = 0
    entities_written: int = 0

    def convert(self, records: Iterable[Tuple[int, Callable[[], Doc]]]) -> Iterator[Doc]:
        """The docs of `records`, counted: each is (line, make_doc), and a
        make_doc that raises RecordError rejects its record with that reason.
        The one bookkeeping loop of every converter."""
        for line, make_doc in records:
            self.read += 1
            # a converter counts entities as it reads them, before a later
            # check may reject the record: only accepted records' count
            entities_before = self.entities_read
            try:
                doc = make_doc()
            except RecordError as err:
                self.entities_read = entities_before
                self.reject(line, str(err))
                continue
            self.written += 1
            self.entities_written += len(doc.ents)
            yield doc

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append((line, reason))

    def note(self, line: int, message: str) -> None:
        self.notes.append((line, message))

    def check_not_all_rejected(self) -> None:
        """RAISES (ValueError): every record was rejected (E086). A file in
        another encoding or format is rejected record by record, and
        --skip-invalid would write an empty corpus that fails far from the
        cause, in training."""
        if self.rejected and not self.written:
            line, reason = self.rejected[0]
            raise ValueError(Errors.E086.format(path=self.path, n=len(self.rejected), line=line, reason=reason))

    @property
    def balanced(self) -> bool:
        return self.read == self.written + len(self.rejected)

    def lines(self) -> List[str]:
        """One `FILE:LINE: reason` line per rejection and per note."""
        out = [f"{self.path}:{line}: rejected: {reason}" for line, reason in self.rejected]
        out += [f"{self.path}:{line}: note: {message}" for line, message in self.notes]
        return out

    def summary(self) -> str:
        return (
            f"{self.path}: read {self.read}, written {self.written}, "
            f"rejected {len(self.rejected)}; entities read {self.entities_read}, "
            f"written {self.entities_written}; notes {len(self.notes)}"
        )
