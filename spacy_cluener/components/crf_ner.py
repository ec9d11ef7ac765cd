"""`crf_ner`: a trainable entity recognizer with a linear-chain CRF head.

The model (see `layers/crf_tagger.py`) gives emission scores per token; this
component turns gold entities into tags of its scheme (or, for a partially
annotated doc, into the tags each token may take), and the layers compute the
CRF's negative log-likelihood as the loss and decode with constrained Viterbi
(`layers/crf_batch.py`; no torch code here), so `doc.ents` is always a legal
tag sequence read back with spaCy's BILUO helpers.

As spaCy's `ner`, it keeps the entities set before it (label, bounds, kb_id)
and blocked tokens, predicting around them; it grows when a label is added
after initialization. See docs/spacy-contracts.md.

Each entity's confidence is its CRF marginal, the probability of its exact tag
sub-sequence (`layers/crf_marginals.py`), in `doc.spans[spans_key]` with
`attrs["scores"]` aligned (as spaCy's spancat); `threshold` leaves entities
scoring below it out of `doc.ents`. A pipeline made by `calibrate`
(`training/calibration.py`) carries a temperature for the marginals and, per
type where it paid, a monotone map of the scores (`score_maps.py`) in its cfg,
applied here whenever scores are computed.
"""
import hashlib
import sys
import warnings
from itertools import islice
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

import numpy
import srsly
from spacy import util
from spacy.attrs import IDX, IS_SPACE
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.pipeline.tok2vec import Tok2VecListener
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.training.iob_utils import tags_to_entities
from spacy.vocab import Vocab
from thinc.api import Config, Model, set_dropout_rate
from thinc.types import Floats2d

from ..errors import Errors, Warnings
from ..layers.crf_batch import crf_decode, crf_loss, legal_under_scheme
from ..layers.crf_tagger import (
    build_crf_head,
    get_crf_module,
    reset_crf_head,
    resize_crf_head,
    set_tag_names,
    tok2vec_width,
)
from ..scoring import score_entities
from ..tag_schemes import (
    biluo_to_scheme,
    check_scheme,
    gold_biluo,
    known_tags_mask,
    preset_biluo,
    scheme_to_biluo,
    tag_names,
)
from .score_maps import apply_map

default_model_config = """
[model]
@architectures = "spacy_cluener.CRFTagger.v1"
dropout = 0.1

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = false
"""
DEFAULT_MODEL = Config().from_str(default_model_config)["model"]
# Entity confidence is on by default: issue 26's rule is on when it costs
# <= 5 % of the whole pipeline's throughput (nlp.pipe, CPU, one thread,
# batched and one text at a time), measured by the benchmarks project's
# `confidence-cost` (benchmarks/results/confidence_cost.json, docs/results.md).
# One text at a time it cost 27 % with the torch forward-backward; the numpy
# one (`crf_marginals.span_marginals_numpy`, used where the numpy Viterbi
# runs) brought it under the goal. `scores = false` skips it; `predict`
# without --scores and `annotate --no-scores` turn it off for their run. A
# calibrated pipeline (`calibrate`) applies its calibration to the scores.
DEFAULT_SCORES = True
# What a saved cfg does not give a loaded component: the user settings, which
# come from the config (so config values and load-time overrides win). The
# rest (labels, scheme, nI, tags_sha256, temperature, calibration: what the
# weights depend on) comes from the saved cfg.
USER_SETTINGS = ("scores", "threshold", "spans_key", "expected_errors")


@Language.factory(
    "crf_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "doc.spans"],
    default_config={
        "model": DEFAULT_MODEL,
        "scheme": "BIOES",
        "scorer": {"@scorers": "spacy_cluener.entity_scorer.v1"},
        "scores": DEFAULT_SCORES,
        "threshold": 0.0,
        "spans_key": "crf_ner",
        "expected_errors": False,
    },
    default_score_weights={
        "ents_macro_f": 1.0,
        "ents_f": 0.0,
        "ents_p": 0.0,
        "ents_r": 0.0,
        "ents_per_type": None,
    },
)
def make_crf_ner(
    nlp: Language,
    name: str,
    model: Model,
    scheme: str,
    scorer: Optional[Callable],
    scores: bool,
    threshold: float,
    spans_key: Optional[str],
    expected_errors: bool,
):
    """Create a CRF entity recognizer.

    scheme (str): "BIO" or "BIOES".
    scores (bool): compute each entity's confidence (its CRF marginal) into
        `doc.spans[spans_key].attrs["scores"]`; False skips forward-backward.
    threshold (float): entities scoring below it are left out of `doc.ents`
        (they stay in `doc.spans[spans_key]`); 0.0 keeps every Viterbi entity.
    spans_key (Optional[str]): the `doc.spans` key of the entities and their
        scores; None writes no span group (a pipeline that retokenizes
        after this component, e.g. `merge_entities`: spaCy's retokenizer
        does not move span groups, which then cannot be serialized).
    expected_errors (bool): also write, per doc, how many of its tags the CRF
        expects to be wrong into `doc.spans[spans_key].attrs["expected_errors"]`
        (a forward-backward for every doc; `predict --top` turns it on to put
        the texts it is least sure of first).
    """
    component = CRFEntityRecognizer(
        nlp.vocab, model, name, scheme=scheme, scorer=scorer, scores=scores, threshold=threshold,
        spans_key=spans_key, expected_errors=expected_errors,
    )
    # The setters write user settings through to nlp's config, so that
    # nlp.to_disk saves the current values in config.cfg.
    component._nlp = nlp
    return component


class CRFPredictions(NamedTuple):
    """What `predict` gives `set_annotations`: tag ids per doc, and, when
    scores are on, the entities per doc (`_entities`) with their marginals,
    aligned; with `expected_errors` on, each doc's expected wrong tags."""

    tag_ids: List[numpy.ndarray]
    scores: Optional[List[numpy.ndarray]] = None
    entities: Optional[List[List[Tuple[int, int, str, int]]]] = None
    errors: Optional[List[float]] = None


class CRFEntityRecognizer(TrainablePipe):
    """Named entities from emission scores decoded by a constrained CRF."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "crf_ner",
        *,
        scheme: str = "BIOES",
        scorer: Optional[Callable] = score_entities,
        scores: bool = DEFAULT_SCORES,
        threshold: float = 0.0,
        spans_key: Optional[str] = "crf_ner",
        expected_errors: bool = False,
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self._nlp: Optional[Language] = None
        # A copy of the model made by `nlp.resume_training()`, for `rehearse`.
        self._rehearsal_model: Optional[Model] = None
        # cfg is saved with the model. What the weights depend on (labels,
        # scheme, nI, tags_sha256, temperature) is read back from it at load;
        # the user settings (scores, threshold, spans_key) come from the
        # config, as for spaCy's components (see `from_disk`). Written only
        # through the setters below and `add_label`/`initialize`.
        self.cfg: Dict = {
            "labels": [],
            "scheme": check_scheme(scheme),
            "scores": False,
            "threshold": 0.0,
            "spans_key": "crf_ner",
            "expected_errors": False,
            # Marginals of the scores divided by it (1.0: the CRF's own).
            "temperature": 1.0,
            # `calibrate`'s per-type score maps and what they were fitted on
            # (training/calibration.py); None: the marginals as they are.
            "calibration": None,
            # The head's input width, set by `initialize`; None: not built.
            "nI": None,
            # Labels added to a trained model (`add_label`, or a preset
            # entity's label at predict) and not yet in any gold: their tags
            # are never predicted, as spaCy's `ner` masks its unseen classes
            # (their weights start at zero, which is not "never").
            "unseen_labels": [],
        }
        self.scorer = scorer
        self.with_scores = scores
        self.threshold = threshold
        self.spans_key = spans_key
        self.expected_errors = expected_errors

    @property
    def labels(self):
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> List[str]:
        return list(self.labels)

    @property
    def scheme(self) -> str:
        return self.cfg["scheme"]

    @property
    def spans_key(self) -> Optional[str]:
        return self.cfg.get("spans_key", "crf_ner")

    @spans_key.setter
    def spans_key(self, value: Optional[str]) -> None:
        """None: no span group (for pipelines that retokenize after this
        component: spaCy's retokenizer does not move `doc.spans`)."""
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(Errors.E050.format(value=value))
        self._set_setting("spans_key", value)

    @property
    def with_scores(self) -> bool:
        """Whether entity scores are computed: `scores`, or implied by a
        threshold above 0 (which needs them; `spacy find-threshold` sets only
        the threshold)."""
        return bool(self.cfg.get("scores", False)) or self.threshold > 0.0

    @with_scores.setter
    def with_scores(self, value: bool) -> None:
        self._set_setting("scores", bool(value))

    @property
    def expected_errors(self) -> bool:
        """Whether each doc's expected number of wrong tags is computed (into
        `doc.spans[spans_key].attrs["expected_errors"]`)."""
        return bool(self.cfg.get("expected_errors", False))

    @expected_errors.setter
    def expected_errors(self, value: bool) -> None:
        self._set_setting("expected_errors", bool(value))

    @property
    def threshold(self) -> float:
        return float(self.cfg.get("threshold", 0.0))

    @threshold.setter
    def threshold(self, value: float) -> None:
        """The precision/recall knob, also on a loaded pipeline."""
        _check_confidence({"threshold": float(value)})
        self._set_setting("threshold", float(value))

    @property
    def temperature(self) -> float:
        return float(self.cfg.get("temperature", 1.0))

    @temperature.setter
    def temperature(self, value: float) -> None:
        """Set by calibration (`training/temperature.py`); saved with the
        weights, whose scores it rescales."""
        if not value > 0.0:
            raise ValueError(Errors.E051.format(value=value))
        self.cfg["temperature"] = float(value)

    def _set_setting(self, key: str, value) -> None:
        """cfg, and nlp's config of this component when it has one, so that
        `nlp.to_disk` writes the current value into config.cfg."""
        self.cfg[key] = value
        nlp = getattr(self, "_nlp", None)
        for name, proc in nlp.components if nlp is not None else []:
            if proc is self:  # found by identity: a renamed or sourced pipe keeps its nlp's name
                nlp.get_pipe_config(name)[key] = value

    @property
    def tag_names(self) -> List[str]:
        return tag_names(self.labels, self.scheme)

    @property
    def crf(self):
        """The torch `EmissionCRF` module, once the model is built."""
        return get_crf_module(self.model)

    def add_label(self, label: str) -> int:
        """Add a label; after initialization the emission layer and the CRF's
        transitions grow (the learned weights kept, the new tags' start at
        zero, forbidden transitions still forbidden), as spaCy's `ner`
        resizes its output layer, and the label is not predicted until a gold
        entity of it has been trained on (`unseen_labels`).
        RETURNS (int): 0 if it was there, else 1."""
        if not isinstance(label, str):
            raise ValueError(Errors.E011.format(label=label))
        if label in self.labels:
            return 0
        if label.startswith("!"):
            # spaCy's deprecated negative-entity format, which its ner refuses too
            raise ValueError(Errors.E052.format(label=label))
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        if self.crf is not None:
            resize_crf_head(self.model, self.tag_names)
            self.cfg["tags_sha256"] = _tags_checksum(self.tag_names)
            self.cfg["unseen_labels"] = [*self.cfg.get("unseen_labels", []), label]
        return 1

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        """Take labels from `labels` (`spacy init labels`) or the examples,
        then build the model with a few sample docs."""
        validate_get_examples(get_examples, "CRFEntityRecognizer.initialize")
        if labels is not None:
            for label in labels:
                self.add_label(label)
        else:
            found = set()
            for eg in get_examples():
                found.update(ent.label_ for ent in eg.reference.ents)
            for label in sorted(found):
                self.add_label(label)
        doc_sample = [eg.x for eg in islice(get_examples(), 10)]
        if not self.labels and any(eg.reference.has_annotation("ENT_IOB") for eg in get_examples()):
            # Annotated examples without a single entity: almost always the
            # wrong corpus. (`nlp.initialize()` without examples passes a
            # dummy one without annotation: a model with no label yet, as
            # spaCy's `ner` allows.)
            raise ValueError(Errors.E004)
        self._set_tags()
        # Initializing a trained pipeline again starts the head from scratch,
        # as it does the tok2vec (and spaCy's `ner` its weights).
        reset_crf_head(self.model)
        self.cfg["unseen_labels"] = []
        if doc_sample:
            self.model.initialize(X=doc_sample)
        else:
            # `nlp.initialize()` without examples, as spaCy's `ner` allows:
            # the width comes from the tok2vec's nO.
            width = tok2vec_width(self.model)
            if width is None:
                raise ValueError(Errors.E006)
            self.model.get_ref("crf_head").set_dim("nI", width)
            self.model.initialize()
        # Stored so that loading can build the torch head before reading its
        # weights: a transformer listener's width is not known until the
        # transformer is loaded and linked, after this component's from_disk.
        self.cfg["nI"] = self.model.get_ref("crf_head").get_dim("nI")
        # The weights' columns are in this tag order: loading refuses a cfg
        # whose labels were renamed or reordered since (they would load
        # silently, with wrong names on every entity).
        self.cfg["tags_sha256"] = _tags_checksum(self.tag_names)

    def _set_tags(self) -> None:
        set_tag_names(self.model, self.tag_names, self.scheme)

    def _build_for_loading(self, where: str = "the cfg") -> None:
        """Build the torch module from cfg before loading weights into it."""
        stored = self.cfg.get("tags_sha256")
        # models saved before the checksum was stored have none: nothing to check
        if stored is not None and stored != _tags_checksum(self.tag_names):
            raise OSError(
                Errors.E018.format(
                    path=where, labels=list(self.labels), stored=stored[:12],
                    found=_tags_checksum(self.tag_names)[:12],
                )
            )
        self._set_tags()
        width = self.cfg.get("nI") or tok2vec_width(self.model)
        if width is None:
            raise ValueError(Errors.E012)
        build_crf_head(self.model.get_ref("crf_head"), width)

    def predict(self, docs: Iterable[Doc]) -> CRFPredictions:
        """Tag ids per doc, from constrained Viterbi over the emissions, and,
        if scores are on, the marginal of each entity it predicts. Entities
        set before this component and blocked tokens constrain the path (see
        `_allowed`): they are kept, and the model predicts around them."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            tag_ids = [numpy.zeros((len(doc),), dtype="int64") for doc in docs]
            empty = [numpy.zeros((0,), dtype="float64") for _ in docs] if self.with_scores else None
            return CRFPredictions(tag_ids, empty, errors=[0.0] * len(docs) if self.expected_errors else None)
        self._check_upstream(docs)
        presets = [preset_biluo(doc) for doc in docs]
        if self.crf is not None:
            # A preset entity's label joins the labels, as in spaCy's `ner`
            # (`test_ner_labels_added_implicitly_on_predict`).
            for label in sorted({t[2:] for p in presets if p for t in p if t != "O" and t is not None}):
                if label not in self.labels:
                    self.add_label(label)
        spaces = [doc.to_array(IS_SPACE).astype(bool) for doc in docs]
        # without a span group, scores serve only a threshold, and expected errors nothing
        stored = self.spans_key is not None
        return self._decode_and_score(self.model.predict(docs), spaces,
                                      self.with_scores and (stored or self.threshold > 0.0), presets,
                                      with_errors=self.expected_errors and stored)

    def _listeners(self) -> List[Model]:
        """The listener layers of the model (spaCy's tok2vec listener,
        spacy-transformers' one): what reads another component's output."""
        kinds = (Tok2VecListener, *_transformer_listener_class())
        return [node for node in self.model.walk() if isinstance(node, kinds)]

    def _check_upstream(self, docs: List[Doc]) -> None:
        """E084 when the model listens to an upstream component (a
        transformer, a tok2vec) that did not run on a non-empty doc: the
        listeners then give zero vectors, which decode to entities all over
        the text. The listeners are looked up on every call (a walk of a few
        nodes, a microsecond), so `replace_listeners` is always seen; each
        doc costs one attribute check."""
        for node in self._listeners():
            if isinstance(node, Tok2VecListener):
                kind, missing = "tok2vec", any(len(doc) and doc.tensor.size == 0 for doc in docs)
            else:
                kind, missing = "transformer", any(len(doc) and doc._.trf_data is None for doc in docs)
            if missing:
                upstream = (f"a {kind} component (upstream '*')" if node.upstream_name == "*"
                            else f"the {kind} component '{node.upstream_name}'")
                raise ValueError(Errors.E084.format(name=self.name, kind=kind, upstream=upstream))

    def _decode(
        self, scores: List[Floats2d], spaces: Optional[List[numpy.ndarray]] = None
    ) -> List[numpy.ndarray]:
        """Viterbi tag ids per doc (see `_decode_and_score`)."""
        return self._decode_and_score(scores, spaces, False).tag_ids

    def _decode_and_score(
        self,
        scores: List[Floats2d],
        spaces: Optional[List[numpy.ndarray]],
        with_scores: bool,
        presets: Optional[List[Optional[List[Optional[str]]]]] = None,
        with_errors: bool = False,
    ) -> CRFPredictions:
        """Viterbi over the emissions, restricted per token by `_allowed`.
        With `with_scores`, the marginals of the entities this component
        predicts (not the preset ones), under the same constraints; with
        `with_errors`, each doc's expected number of wrong tags."""
        if presets is None:
            presets = [None] * len(scores)
        if spaces is None:
            spaces = [None] * len(scores)
        unseen = self._unseen_tag_ids()
        allowed = [self._allowed(len(s), sp, pre, unseen) for s, sp, pre in zip(scores, spaces, presets)]
        read = None
        if with_scores:
            reader = self._entity_reader()

            def read(i: int, ids: numpy.ndarray):
                return [e for e in reader(ids) if presets[i] is None or presets[i][e[0]] is None]

        decoded = crf_decode(
            self.model, scores, allowed, len(self.tag_names), read, float(self.cfg.get("temperature", 1.0)),
            with_errors=with_errors,
        )
        span_scores = decoded.scores
        if with_scores:
            span_scores = [self._calibrated(ents, s) for ents, s in zip(decoded.entities, decoded.scores)]
        return CRFPredictions(decoded.tag_ids, span_scores, decoded.entities, decoded.errors)

    def _calibrated(self, entities: List[Tuple[int, int, str, int]], scores: numpy.ndarray) -> numpy.ndarray:
        """The scores after the per-type maps of `calibrate` (cfg
        `calibration.per_type`); a type without a map keeps its marginal."""
        maps = (self.cfg.get("calibration") or {}).get("per_type") or {}
        if not maps or not len(scores):
            return scores
        out = numpy.array(scores, dtype="float64")
        labels = numpy.array([e[2] for e in entities], dtype=object)
        for label, score_map in maps.items():
            inside = labels == label
            if inside.any():
                out[inside] = apply_map(score_map, out[inside])
        return out

    def _allowed(
        self, length: int, spaces: Optional[numpy.ndarray], preset: Optional[List[Optional[str]]],
        unseen: Optional[numpy.ndarray] = None,
    ) -> Optional[numpy.ndarray]:
        """(length, n_tags) bool mask of the tags each token may take, or
        None for no constraint. A preset token takes its own tag (a blocked
        one "O"); a free token of standalone whitespace (two spaces, a
        newline) takes "O". spaCy's `ner` never starts an entity on
        whitespace either; here it matters more, because a transformer gives
        such a token no wordpiece, hence a zero vector, so its emissions
        carry no evidence. A free token never takes a tag of an unseen label
        (`unseen`: their ids, `_unseen_tag_ids`, found once per batch)."""
        has_space = spaces is not None and bool(spaces.any())
        if unseen is None and self.cfg.get("unseen_labels"):
            unseen = self._unseen_tag_ids()  # a caller with one doc (the batch passes them in)
        if preset is None and not has_space and unseen is None:
            return None
        names = self.tag_names
        allowed = known_tags_mask(preset or [None] * length, names, self.scheme)
        free = None if preset is None else numpy.array([p is None for p in preset])
        if has_space:
            free_space = spaces if free is None else spaces & free
            allowed[free_space, 1:] = False  # tag 0 is "O" (tag_names puts it first)
        if unseen is not None:
            if free is None:
                allowed[:, unseen] = False
            else:
                allowed[numpy.ix_(free, unseen)] = False
        return allowed

    def _unseen_tag_ids(self) -> Optional[numpy.ndarray]:
        """The tag ids of `unseen_labels`, or None when there are none."""
        if not self.cfg.get("unseen_labels"):
            return None
        unseen = set(self.cfg["unseen_labels"])
        return numpy.array([i for i, name in enumerate(self.tag_names) if name != "O" and name[2:] in unseen])

    def _entity_reader(self) -> Callable[[numpy.ndarray], List[Tuple[int, int, str, int]]]:
        """A function from a tag-id sequence to its entities (start, end,
        label, stop tag), end exclusive, read with spaCy's BILUO helper (what
        `doc.ents` gets). The stop tag may not follow the entity: BIO's I-X,
        which would extend it; -1 in BIOES, whose entities delimit themselves.
        The tag names and their index are built once, for a whole batch."""
        names = self.tag_names
        scheme = self.scheme
        index = self.tag_index() if scheme == "BIO" else None

        def read(ids: numpy.ndarray) -> List[Tuple[int, int, str, int]]:
            biluo = scheme_to_biluo([names[i] for i in ids], scheme)
            return [
                (start, end + 1, label, index[f"I-{label}"] if index is not None else -1)
                for label, start, end in tags_to_entities(biluo)
            ]

        return read

    def set_annotations(self, docs: Iterable[Doc], predictions) -> None:
        """doc.ents: the entities set before this component (label, bounds,
        kb_id kept), blocked tokens still blocked, and the predicted entities
        (those scoring >= threshold) around them; the predicted ones in
        doc.spans[spans_key], with attrs["scores"] aligned when scores are on
        (as spaCy's spancat), and attrs["expected_errors"] when that is on.
        `predictions`: `predict`'s CRFPredictions, or a plain list of tag
        ids (no scores)."""
        if not isinstance(predictions, CRFPredictions):
            predictions = CRFPredictions(list(predictions), None)
        key = self.spans_key
        threshold = self.threshold
        read = self._entity_reader()
        for i, (doc, ids) in enumerate(zip(docs, predictions.tag_ids)):
            preset = preset_biluo(doc)
            if predictions.entities is not None:
                found = predictions.entities[i]
            else:
                found = [e for e in read(ids) if preset is None or preset[e[0]] is None]
            spans = [Span(doc, start, end, label=label) for start, end, label, _ in found]
            if key is not None:
                group = SpanGroup(doc, name=key, spans=spans)
                if predictions.scores is not None:
                    group.attrs["scores"] = predictions.scores[i]
                if predictions.errors is not None:
                    group.attrs["expected_errors"] = predictions.errors[i]
                doc.spans[key] = group
            if predictions.scores is not None and threshold > 0.0:
                spans = [span for span, score in zip(spans, predictions.scores[i]) if score >= threshold]
            if preset is None:
                doc.ents = spans
            else:
                blocked = [doc[t : t + 1] for t, token in enumerate(doc) if token.ent_iob == 3 and not token.ent_type]
                doc.set_ents(list(doc.ents) + spans, blocked=blocked, default="outside")

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """TrainablePipe.update, after adding the gold labels the model does
        not have yet (as spaCy's `ner` does): the emissions must have their
        columns before the forward pass. The gold's labels are no longer
        unseen; a calibration is dropped (`_drop_calibration`)."""
        examples = list(examples)
        if self.crf is not None:
            gold_labels = {ent.label_ for eg in examples for ent in eg.reference.ents}
            for label in sorted(gold_labels - set(self.labels)):
                self.add_label(label)
            if self.cfg.get("unseen_labels"):
                self.cfg["unseen_labels"] = [x for x in self.cfg["unseen_labels"] if x not in gold_labels]
            self._drop_calibration()
        return super().update(examples, drop=drop, sgd=sgd, losses=losses)

    def rehearse(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """A rehearsal update (`nlp.resume_training()`, then `nlp.rehearse`):
        train towards the tag paths that the model as it was at
        `resume_training` predicts for these docs, so that new data does not
        make it forget what it found ("catastrophic forgetting"). spaCy's
        tagger and ner match their copy's per-token output; a CRF's output is
        a path, so the copy's best path is the target of the likelihood.
        Its encoder must be crf_ner's own, as for spaCy's ner (E064)."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        validate_examples(examples, "CRFEntityRecognizer.rehearse")
        docs = [eg.predicted for eg in examples]
        if self._rehearsal_model is None or self.crf is None or not any(len(doc) for doc in docs):
            return losses
        listeners = self._listeners()
        if listeners:
            raise ValueError(Errors.E064.format(name=self.name, listener=listeners[0].name))
        gold = self._tutor_tag_ids(docs)
        self._drop_calibration()  # as `update`: the weights move
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update(docs)
        loss, d_scores = crf_loss(self.model, scores, gold, [None] * len(docs), len(self.tag_names))
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def _tutor_tag_ids(self, docs: List[Doc]) -> List[Optional[List[int]]]:
        """The rehearsal copy's predicted tag path of each doc (presets and
        whitespace constrained as in `predict`), as ids of this model's tags:
        labels added since the copy was made have no tags in it."""
        tutor = self._rehearsal_model
        index = self.tag_index()
        cols = numpy.array([index[name] for name in tutor.get_ref("crf_head").attrs["tag_names"]])
        unseen = self._unseen_tag_ids()
        allowed = []
        for doc in docs:
            mask = self._allowed(len(doc), doc.to_array(IS_SPACE).astype(bool), preset_biluo(doc), unseen)
            allowed.append(None if mask is None else mask[:, cols])
        decoded = crf_decode(tutor, tutor.predict(docs), allowed, len(cols))
        return [cols[ids].tolist() if len(ids) else None for ids in decoded.tag_ids]

    def _drop_calibration(self) -> None:
        """Training moves the weights the calibration was fitted to: its
        temperature and maps no longer hold, so they go (with W005),
        and the scores are the raw marginals until `calibrate` runs again."""
        if self.cfg.get("calibration") is None and self.temperature == 1.0:
            return
        warnings.warn(Warnings.W005.format(name=self.name), stacklevel=3)
        self.cfg["calibration"] = None
        self.cfg["temperature"] = 1.0

    def tag_index(self) -> Dict[str, int]:
        """Tag name -> id, in the order of the model's output columns."""
        return {name: i for i, name in enumerate(self.tag_names)}

    def gold_biluo(self, example: Example) -> List[Optional[str]]:
        """The gold BILUO tags of an example, aligned to its predicted tokens,
        None or "-" where a token's tag is unknown."""
        if _same_tokens(example):
            # Skips Example's alignment, which is rebuilt for every update.
            return gold_biluo(example.reference)
        return example.get_aligned_ner()

    def gold_tag_ids(
        self, example: Example, index: Optional[Dict[str, int]] = None
    ) -> Optional[List[int]]:
        """The gold tags of an example as ids, or None if any token has none.

        index (Optional[Dict[str, int]]): `tag_index()`, passed in by callers
            that convert a whole batch so it is built once, not per example.
        """
        return self._gold_ids(self.gold_biluo(example), index)

    def _gold_ids(self, biluo, index: Optional[Dict[str, int]] = None) -> Optional[List[int]]:
        if any(tag is None or tag == "-" for tag in biluo):
            return None
        if index is None:
            index = self.tag_index()
        tags = biluo_to_scheme(biluo, self.scheme)
        unknown = [t for t in tags if t not in index]
        if unknown:
            raise ValueError(Errors.E013.format(tag=unknown[0], labels=list(self.labels)))
        return [index[t] for t in tags]

    def get_loss(self, examples: Iterable[Example], scores: List[Floats2d]):
        """CRF negative log-likelihood and its gradient for the emissions.

        A fully annotated doc gives the likelihood of its gold path; a doc
        with missing tags that of the paths agreeing with its known tags (the
        missing tokens are summed over); a doc with no known tag adds nothing
        (W001). The gradients of the CRF's own transition scores are
        accumulated on the torch parameters, which `finish_update` applies
        with the optimizer.
        """
        examples = list(examples)
        validate_examples(examples, "CRFEntityRecognizer.get_loss")
        index = self.tag_index()
        names = self.tag_names
        gold: List[Optional[List[int]]] = []
        allowed: List[Optional[numpy.ndarray]] = []
        skipped = 0
        for eg in examples:
            ids, mask = None, None
            if len(eg.predicted):
                biluo = self.gold_biluo(eg)
                ids = self._gold_ids(biluo, index)
                if ids is None and any(tag not in (None, "-") for tag in biluo):
                    self._check_labels(biluo, index)
                    mask = known_tags_mask(biluo, names, self.scheme)
                    if not legal_under_scheme(self.model, mask):
                        mask = None
                skipped += ids is None and mask is None
            gold.append(ids)
            allowed.append(mask)
        if skipped:
            warnings.warn(Warnings.W001.format(n=skipped), stacklevel=2)
        if all(g is None for g in gold) and all(a is None for a in allowed):
            return 0.0, [self.model.ops.alloc2f(*s.shape) for s in scores]
        return crf_loss(self.model, scores, gold, allowed, len(names))

    def _check_labels(self, biluo, index: Dict[str, int]) -> None:
        """E013 for a known tag whose label the model does not have."""
        for tag in biluo_to_scheme([t for t in biluo if t not in (None, "-")], self.scheme):
            if tag not in index:
                raise ValueError(Errors.E013.format(tag=tag, labels=list(self.labels)))

    def score(self, examples: Iterable[Example], **kwargs):
        validate_examples(examples, "CRFEntityRecognizer.score")
        return self.scorer(examples, **kwargs)

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()):
        """Two-phase load (as spacy-experimental's coref): cfg and vocab first,
        then the torch head is built from cfg, then its weights are read."""
        saved: Dict = {}
        deserialize = {
            "cfg": lambda b: saved.update(_read_cfg(lambda: srsly.json_loads(b), "its cfg (bytes)")),
            "vocab": lambda b: self.vocab.from_bytes(b, exclude=exclude),
        }
        util.from_bytes(bytes_data, deserialize, exclude)
        if self._load_cfg(saved):
            self._build_for_loading("its cfg (bytes)")
        util.from_bytes(bytes_data, {"model": lambda b: _read_model(self.model, b, "its model (bytes)")}, exclude)
        return self

    def _load_cfg(self, saved: Dict) -> bool:
        """Take from a saved cfg what the weights depend on (labels, scheme,
        nI, tag checksum, temperature) and any other key; the user settings
        (scores, threshold, spans_key) stay those of the config, so that config
        values and `spacy.load(..., config=...)` overrides win. RETURNS
        (bool): whether the saved model has a built head to load into (an
        uninitialized pipeline has none)."""
        if not saved:  # cfg excluded: build from what the component has
            return self.cfg.get("nI") is not None or bool(self.labels)
        for key, value in saved.items():
            if key not in USER_SETTINGS:
                self.cfg[key] = value
        for label in self.labels:
            # the vocab may be excluded (a pipeline's own is loaded apart)
            self.vocab.strings.add(label)
        if "nI" in saved:
            return saved["nI"] is not None
        # saved before nI was stored: every such model was initialized
        return bool(saved.get("labels"))

    def from_disk(self, path, *, exclude=tuple()):
        """As `from_bytes`, from the files `to_disk` wrote. A missing or
        damaged file is one OSError naming it, as spaCy's E050 for a
        missing pipeline (the commands print it as one line)."""
        path = util.ensure_path(path)

        saved: Dict = {}

        def read_cfg(p):
            if not p.exists():
                raise OSError(Errors.E017.format(path=p, problem="is missing"))
            saved.update(_read_cfg(lambda: srsly.read_json(p), p))

        def read_model(p):
            if not p.exists():
                raise OSError(Errors.E017.format(path=p, problem="is missing"))
            _read_model(self.model, p.read_bytes(), p)

        deserialize = {
            "cfg": read_cfg,
            "vocab": lambda p: self.vocab.from_disk(p, exclude=exclude),
        }
        util.from_disk(path, deserialize, exclude)
        if self._load_cfg(saved):
            self._build_for_loading(str(path / "cfg"))
        util.from_disk(path, {"model": read_model}, exclude)
        return self


def _transformer_listener_class() -> tuple:
    """spacy-transformers' listener class, or () when it is not imported
    (then no model holds one); crf_ner does not need spacy-transformers."""
    module = sys.modules.get("spacy_transformers.layers.listener")
    return (module.TransformerListener,) if module is not None else ()


def _check_confidence(cfg: Dict) -> None:
    threshold = cfg.get("threshold", 0.0)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(Errors.E019.format(threshold=threshold))


def _tags_checksum(names: List[str]) -> str:
    """sha256 of the ordered tag names: the order of the weights' columns."""
    return hashlib.sha256("\n".join(names).encode("utf8")).hexdigest()


def _read_cfg(read: Callable[[], Dict], where) -> Dict:
    try:
        cfg = read()
    except ValueError as err:  # ujson/json decode errors are ValueErrors
        raise OSError(Errors.E017.format(path=where, problem=f"is not valid JSON ({err})")) from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("labels", []), list):
        raise OSError(Errors.E017.format(path=where, problem="is not a crf_ner cfg (a JSON object with 'labels')"))
    return cfg


def _read_model(model: Model, data: bytes, where) -> None:
    try:
        model.from_bytes(data)
    except Exception as err:  # msgpack / torch errors of a truncated or foreign file
        if "mismatched structure" in str(err):  # thinc: the config builds another tree
            raise OSError(Errors.E062.format(path=where, err=str(err)[:200])) from None
        raise OSError(
            Errors.E017.format(path=where, problem=f"cannot be read as the model's weights "
                               f"({type(err).__name__}: {str(err)[:200]}): truncated or not this model's file")
        ) from None


def _same_tokens(example: Example) -> bool:
    x, y = example.predicted, example.reference
    return len(x) == len(y) and x.text == y.text and numpy.array_equal(x.to_array(IDX), y.to_array(IDX))
