"""Wordpiece <-> character-token alignment of a transformer + `crf_ner` pipeline.

The CRF needs one emission row, hence one vector, per token, and it must not
learn from [CLS]/[SEP]/[PAD]. spacy-transformers guarantees neither: a token
that no wordpiece covers (a standalone whitespace token, a character the
BERT tokenizer deletes, a window truncated at 512 pieces) silently gets a
zero vector from `reduce_mean`, and a wrong alignment would pool special
pieces into real tokens. `check_alignment` runs the pipeline's own
transformer (batched, so padding occurs as in training) and `crf_ner`'s own
model over some docs and reports, per wordpiece, what it is aligned to.
"""
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Tuple

import spacy
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Corpus, Example
from spacy.training.corpus import walk_corpus

from ..components.crf_ner import CRFEntityRecognizer
from ..errors import Errors


@dataclass
class PieceRow:
    """One wordpiece of one window (span) of a doc."""

    window: int
    position: int
    piece: str
    piece_id: int
    attention: int
    tokens: List[int]


@dataclass
class DocAlignment:
    """The alignment of one doc, and what is wrong with it."""

    index: int
    tokens: List[str]
    gold_tags: Optional[List[str]]
    rows: List[PieceRow]
    n_vectors: int
    n_emissions: int
    # the CRF's mask (decode and loss) is built from these lengths, so checking
    # them is checking the mask
    n_gold_tags: Optional[int]
    problems: List[str] = field(default_factory=list)
    unk_rows: List[PieceRow] = field(default_factory=list)
    # pieces shared by tokens on both sides of a gold entity boundary
    split_rows: List[PieceRow] = field(default_factory=list)


@dataclass
class AlignmentReport:
    docs: List[DocAlignment]
    unk_chars: Counter

    @property
    def problems(self) -> List[str]:
        return [p for d in self.docs for p in d.problems]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def n_pieces(self) -> int:
        return sum(len(d.rows) for d in self.docs)

    @property
    def n_padding(self) -> int:
        return sum(1 for d in self.docs for r in d.rows if not r.attention)

    @property
    def n_unk(self) -> int:
        return sum(len(d.unk_rows) for d in self.docs)

    @property
    def n_split(self) -> int:
        return sum(len(d.split_rows) for d in self.docs)


def find_pipes(nlp: Language):
    """The transformer and the crf_ner component of a pipeline."""
    from spacy_transformers import Transformer

    trf = [proc for _, proc in nlp.pipeline if isinstance(proc, Transformer)]
    crf = [proc for _, proc in nlp.pipeline if isinstance(proc, CRFEntityRecognizer)]
    if not trf or not crf:
        raise ValueError(Errors.E016.format(model=nlp.meta.get("name", "?"), pipes=nlp.pipe_names))
    return trf[0], crf[0]


def load_pipeline(
    model: Path,
    get_examples: Callable[[Language], Iterable[Example]],
    model_name: Optional[str] = None,
) -> Language:
    """A trained pipeline directory, or a config initialized on the data.

    model (Path): pipeline directory, or a training config (.cfg).
    get_examples (Callable[[Language], Iterable[Example]]): the data, for
        initializing a config (labels and input widths).
    model_name (Optional[str]): for a config, the transformer weights to use
        (hub id or local directory) instead of its `name`.
    """
    model = Path(model)
    if model.is_dir():
        if model_name is not None:
            raise ValueError(Errors.E045.format(model=model))
        return spacy.load(model)
    config = util.load_config(model, interpolate=False)
    if model_name is not None:
        names = [
            name
            for name, comp in config["components"].items()
            if comp.get("factory") == "transformer"
        ]
        if not names:
            raise ValueError(Errors.E046.format(model=model))
        for name in names:
            config["components"][name]["model"]["name"] = model_name
    # interpolated: Language.initialize resolves [training.optimizer] as it is
    nlp = util.load_model_from_config(config.interpolate(), auto_fill=True, validate=True)
    nlp.initialize(lambda: get_examples(nlp))
    return nlp


def count_docs(path: Path) -> int:
    """The docs in the .spacy files at `path` (a file or a directory, as
    spaCy's Corpus reads it); 0 for a path with none, e.g. a `.json`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # W090: no .spacy files found
        return sum(len(DocBin().from_disk(file_)) for file_ in walk_corpus(path, ".spacy"))


class FileExamples(Corpus):
    """spaCy's Corpus (examples tokenized by the pipeline, as in training)
    that remembers where each doc is in the files: the Corpus drops empty
    docs, and debug-alignment names a doc by its index in the user's file
    (the files' docs counted in order, for a directory). `limit` counts the
    files' docs, empty ones included.

    indices (List[int]): the index of each example of the last call.
    empty (List[int]): the indices of the empty docs it skipped.
    """

    def __init__(self, path: Path, limit: int = 0):
        super().__init__(str(path), limit=limit)
        self.indices: List[int] = []
        self.empty: List[int] = []

    def read_docbin(self, vocab, locs) -> Iterator[Doc]:
        self.indices, self.empty = [], []
        index = 0
        for loc in locs:
            loc = util.ensure_path(loc)
            if not loc.name.endswith(".spacy"):
                continue
            for doc in DocBin().from_disk(loc).get_docs(vocab):
                if self.limit >= 1 and index >= self.limit:
                    return
                if len(doc):
                    self.indices.append(index)
                    yield doc
                else:
                    self.empty.append(index)
                index += 1


def read_examples(path: Path, limit: int = 0) -> FileExamples:
    """Examples of a DocBin, tokenized by the pipeline as in training, with
    their indices in the file."""
    return FileExamples(path, limit=limit)


def check_alignment(
    nlp: Language, examples: Iterable[Example], batch_size: int = 8, indices: Optional[List[int]] = None,
) -> AlignmentReport:
    """Run the transformer and crf_ner's model over batches of examples.

    indices (Optional[List[int]]): the name of each example in the report
        (its doc's index in the file: `FileExamples.indices`); None: their
        positions in `examples`.
    RETURNS (AlignmentReport): rows per wordpiece and the problems found.
    """
    if batch_size < 1:  # range() would fail on 0 and check nothing below it
        raise ValueError(Errors.E029.format(what="batch_size", value=batch_size))
    trf, crf = find_pipes(nlp)
    tokenizer = trf.model.tokenizer
    unk_id = tokenizer.unk_token_id
    special_ids = {i for i in tokenizer.all_special_ids if i != unk_id}
    tag_names = crf.tag_names
    tag_index = crf.tag_index()
    examples = list(examples)
    docs_out: List[DocAlignment] = []
    unk_chars: Counter = Counter()
    for start in range(0, len(examples), batch_size):
        batch = examples[start : start + batch_size]
        docs = [eg.predicted for eg in batch]
        trf.set_annotations(docs, trf.predict(docs))
        scores = crf.model.predict(docs)
        for offset, (eg, doc, scores_i) in enumerate(zip(batch, docs, scores)):
            gold_ids = crf.gold_tag_ids(eg, tag_index) if len(doc) else None
            gold = [tag_names[i] for i in gold_ids] if gold_ids is not None else None
            index = start + offset if indices is None else indices[start + offset]
            item = _align_doc(index, doc, gold, special_ids, unk_id, len(scores_i))
            for row in item.unk_rows:
                unk_chars["".join(item.tokens[i] for i in row.tokens)] += 1
            docs_out.append(item)
    return AlignmentReport(docs_out, unk_chars)


def _align_doc(
    index: int,
    doc,
    gold: Optional[List[str]],
    special_ids,
    unk_id: int,
    n_emissions: int,
) -> DocAlignment:
    data = doc._.trf_data
    wps = data.wordpieces
    align = data.align
    n_windows, width = wps.input_ids.shape if wps.input_ids.ndim == 2 else (0, 0)
    piece_tokens: List[List[int]] = [[] for _ in range(n_windows * width)]
    lengths = align.lengths.tolist()
    flat = align.dataXd.ravel().tolist()
    pos = 0
    for token_i, n in enumerate(lengths):
        for j in flat[pos : pos + n]:
            piece_tokens[j].append(token_i)
        pos += n
    rows = []
    for w in range(n_windows):
        for p in range(width):
            j = w * width + p
            rows.append(
                PieceRow(
                    window=w,
                    position=p,
                    piece=wps.strings[w][p] if p < len(wps.strings[w]) else "",
                    piece_id=int(wps.input_ids[w, p]),
                    attention=int(wps.attention_mask[w, p]),
                    tokens=piece_tokens[j],
                )
            )
    item = DocAlignment(
        index=index,
        tokens=[t.text for t in doc],
        gold_tags=gold,
        rows=rows,
        n_vectors=len(lengths),
        n_emissions=n_emissions,
        n_gold_tags=len(gold) if gold is not None else None,
    )
    where = f"doc {index}"
    for row in rows:
        if row.tokens and (row.piece_id in special_ids or not row.attention):
            kind = "padding" if not row.attention else "special"
            item.problems.append(
                f"{where}: {kind} wordpiece {row.piece!r} (window {row.window}, position "
                f"{row.position}) is aligned to token(s) {_tokens_str(row.tokens, item.tokens)}: "
                f"its vector would feed their emissions and the CRF loss"
            )
        if row.piece_id == unk_id and row.attention:
            item.unk_rows.append(row)
        if gold and _crosses_boundary([gold[i] for i in row.tokens]):
            item.split_rows.append(row)
    for token_i, n in enumerate(lengths):
        if n == 0:
            text = doc[token_i].text
            item.problems.append(
                f"{where}: token {token_i} {text!r} ({_codepoints(text)}) has no wordpiece, so "
                f"its vector is zeros (whitespace token, a character the BERT tokenizer drops, "
                f"or a window truncated at the model's maximum length)"
            )
    n_tokens = len(doc)
    checks = [
        ("token vectors (alignment rows)", len(lengths)),
        ("emission rows", n_emissions),
    ]
    if gold is not None:
        checks.append(("gold tags (CRF loss)", len(gold)))
    for name, value in checks:
        if value != n_tokens:
            item.problems.append(f"{where}: {name} has length {value}, the doc has {n_tokens} tokens")
    return item


def _crosses_boundary(tags: List[str]) -> bool:
    """Whether consecutive tokens' tags (any scheme) start or end an entity inside."""
    for prev, tag in zip(tags, tags[1:]):
        if tag == "O" and prev == "O":
            continue
        if tag[:2] in ("B-", "S-") or tag == "O" or prev == "O" or prev[:2] in ("E-", "S-"):
            return True
        if prev[2:] != tag[2:]:
            return True
    return False


def _codepoints(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in text)


def _tokens_str(token_ids: List[int], tokens: List[str]) -> str:
    return ",".join(f"{i}:{tokens[i]!r}" for i in token_ids)


def format_doc(item: DocAlignment) -> List[str]:
    """Lines of a table: one row per wordpiece, [CLS]/[SEP]/[PAD] included."""
    n_windows = len({r.window for r in item.rows})
    width = max((r.position for r in item.rows), default=-1) + 1
    real = sum(1 for r in item.rows if r.attention)
    lines = [
        f"doc {item.index}: {len(item.tokens)} tokens, {n_windows} window(s) x {width} wordpieces "
        f"({real} real, {len(item.rows) - real} padding); vectors {item.n_vectors}, emissions "
        f"{item.n_emissions}"
        + (f", gold tags {item.n_gold_tags}" if item.n_gold_tags is not None else ", no gold tags"),
        f"{'win':>3} {'pos':>4}  {'wordpiece':<12} {'mask':>4}  {'token(s)':<16} gold",
    ]
    for r in item.rows:
        if r.tokens:
            first, last = r.tokens[0], r.tokens[-1]
            span = f"{first}" if first == last else f"{first}-{last}"
            toks = f"{span}:{''.join(item.tokens[i] for i in r.tokens)}"
            gold = ",".join(item.gold_tags[i] for i in r.tokens) if item.gold_tags else "?"
        else:
            toks, gold = "-", "-"
        lines.append(f"{r.window:>3} {r.position:>4}  {r.piece:<12} {r.attention:>4}  {toks:<16} {gold}")
    return lines


def summary_lines(report: AlignmentReport, empty: Iterable[int] = ()) -> List[Tuple[str, str]]:
    """(level, text) pairs: level is "info", "error", "warning" or "ok".

    empty (Iterable[int]): the indices of the empty docs that were skipped
        (`FileExamples.empty`), named so that no doc goes missing unsaid.
    """
    out = [(
        "info",
        f"{len(report.docs)} docs, {sum(len(d.tokens) for d in report.docs)} tokens, "
        f"{report.n_pieces} wordpieces ({report.n_padding} padding), {report.n_unk} [UNK]",
    )]
    empty = list(empty)
    if empty:
        listed = ", ".join(str(i) for i in empty[:20]) + (", ..." if len(empty) > 20 else "")
        out.append(("info", f"{len(empty)} empty doc(s) skipped, nothing to check: doc {listed}"))
    if report.n_unk:
        common = ", ".join(f"{c!r} x{n}" for c, n in report.unk_chars.most_common(10))
        out.append(("warning", f"{report.n_unk} [UNK] wordpiece(s): the model sees no identity for {common}"))
    if report.n_split:
        examples = ", ".join(
            f"doc {d.index} {r.piece!r}" for d in report.docs for r in d.split_rows
        )
        out.append((
            "warning",
            f"{report.n_split} wordpiece(s) cover tokens on both sides of a gold entity boundary; "
            f"those tokens share one vector and only the CRF transitions can tell them apart: "
            f"{examples[:300]}",
        ))
    for problem in report.problems:
        out.append(("error", problem))
    if report.ok:
        out.append(("ok", "every token has a wordpiece, no special or padding piece is aligned, lengths agree"))
    return out
