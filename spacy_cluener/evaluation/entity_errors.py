"""Strict entity matching, and a kind for every false positive and false negative.

Matching is exactly spaCy's `get_ner_prf` (so the micro P/R/F here equal
`ents_p/r/f` of `nlp.evaluate`): a predicted entity is projected onto the gold
doc's tokens through `Example.alignment`, and it is a true positive when a gold
entity has the same start, end and label. Predictions over gold tokens with no
entity annotation are ignored (neither right nor wrong), and docs whose gold
has no entity annotation at all are not scored.

Every false positive (FP) and false negative (FN) gets exactly one kind, and
is counted under its own label: an FP under the predicted label, an FN under
the gold label. So, per label, the FP kinds add up to `fp` and the FN kinds to
`fn`, and one confusion (gold `name`, predicted `company` on the same span)
counts as an FP of kind `type` for `company` and an FN of kind `type` for
`name`.

- An FP is classified by its relation to the gold entities of its doc; an FN
  by its relation to the (scored) predicted entities of its doc. "Overlap"
  means sharing at least one token. The first rule that applies wins:
  1. `type`: an entity on the other side has the same span and another label;
  2. `boundary`: an overlapping entity on the other side has the same label
     (and, since the FP/FN is not a match, another span);
  3. `type_and_boundary`: an overlapping entity has another label and span;
  4. `spurious` (FP) / `missed` (FN): nothing on the other side overlaps.

A prediction that covers two gold entities is thus `boundary` if one of them
has its label, else `type_and_boundary`; each of the two gold entities is an FN
classified on its own.
"""
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Optional, Set, Tuple

from spacy.tokens import Span
from spacy.training import Example

FP_KINDS = ("type", "boundary", "type_and_boundary", "spurious")
FN_KINDS = ("type", "boundary", "type_and_boundary", "missed")


@dataclass(frozen=True)
class Mention:
    """An entity. start/end: gold-doc token offsets (where matching happens);
    start_char/end_char: character offsets in the text, end exclusive."""

    label: str
    start: int
    end: int
    start_char: int
    end_char: int
    text: str

    @property
    def key(self) -> Tuple[str, int, int]:
        return (self.label, self.start, self.end)

    def overlaps(self, other: "Mention") -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class EntityError:
    """side: "fp" (mention is a prediction) or "fn" (mention is a gold entity).
    other: the entity on the other side that decided the kind (None for
    spurious/missed)."""

    side: str
    kind: str
    mention: Mention
    other: Optional[Mention]

    @property
    def label(self) -> str:
        return self.mention.label


@dataclass
class DocResult:
    """What strict matching found in one doc."""

    index: int
    doc_id: Any
    text: str
    # False when the gold doc has no entity annotation (spaCy skips it)
    scored: bool
    gold: List[Mention] = field(default_factory=list)
    # predictions that were scored, projected onto gold tokens
    pred: List[Mention] = field(default_factory=list)
    tp: List[Mention] = field(default_factory=list)
    errors: List[EntityError] = field(default_factory=list)
    # predictions over unannotated gold tokens (or no gold token at all)
    ignored: int = 0
    # labels of all predicted entities: spaCy lists them in ents_per_type
    pred_labels: Set[str] = field(default_factory=set)

    @property
    def exact(self) -> bool:
        """The predicted entity set equals the gold set."""
        return self.scored and not self.errors


def analyse_examples(examples: Iterable[Example]) -> List[DocResult]:
    """One DocResult per example, in order."""
    return [analyse_example(eg, i) for i, eg in enumerate(examples)]


def analyse_example(eg: Example, index: int = 0) -> DocResult:
    """Match eg.predicted against eg.reference like `get_ner_prf`, then
    classify each FP and FN (see the module docstring)."""
    gold_doc, pred_doc = eg.reference, eg.predicted
    result = DocResult(
        index=index,
        doc_id=gold_doc.user_data.get("id") if gold_doc.user_data else None,
        text=gold_doc.text,
        scored=gold_doc.has_annotation("ENT_IOB"),
    )
    if not result.scored:
        return result
    result.gold = [_mention(ent, ent.start, ent.end) for ent in gold_doc.ents]
    unmatched = {m.key: m for m in result.gold}
    align_x2y = eg.alignment.x2y
    fps = []
    for ent in pred_doc.ents:
        result.pred_labels.add(ent.label_)
        mention = project(ent, gold_doc, align_x2y)
        if mention is None:
            result.ignored += 1
            continue
        result.pred.append(mention)
        if mention.key in unmatched:
            result.tp.append(unmatched.pop(mention.key))
        else:
            fps.append(mention)
    for mention in fps:
        kind, other = classify(mention, result.gold, "spurious")
        result.errors.append(EntityError("fp", kind, mention, other))
    for mention in result.gold:
        if mention.key in unmatched:
            kind, other = classify(mention, result.pred, "missed")
            result.errors.append(EntityError("fn", kind, mention, other))
    return result


def project(ent: Span, gold_doc, align_x2y) -> Optional[Mention]:
    """A predicted entity on the gold doc's tokens (as `get_ner_prf`), or
    None when it covers no gold token or an unannotated one (ignored)."""
    indices = align_x2y[ent.start : ent.end]
    if not len(indices):
        return None
    start, end = int(indices[0]), int(indices[-1]) + 1
    if not all(token.ent_iob != 0 for token in gold_doc[start:end]):
        return None
    return _mention(ent, start, end)


def classify(
    mention: Mention, others: List[Mention], no_overlap_kind: str
) -> Tuple[str, Optional[Mention]]:
    """The kind of a wrong `mention` given the entities on the other side."""
    overlapping = [other for other in others if mention.overlaps(other)]
    for other in overlapping:
        if (other.start, other.end) == (mention.start, mention.end) and other.label != mention.label:
            return "type", other
    for other in overlapping:
        if other.label == mention.label:
            return "boundary", other
    if overlapping:
        return "type_and_boundary", overlapping[0]
    return no_overlap_kind, None


def _mention(ent: Span, start: int, end: int) -> Mention:
    return Mention(ent.label_, start, end, ent.start_char, ent.end_char, ent.text)
