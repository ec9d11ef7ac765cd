"""`crf_ner`: a trainable entity recognizer with a linear-chain CRF head.

The model (see `layers/crf_tagger.py`) gives emission scores per token; this
component turns gold entities into tags of its scheme, computes pytorch-crf's
negative log-likelihood as the loss, and decodes with constrained Viterbi, so
`doc.ents` is always a legal tag sequence read back with spaCy's BILUO helpers.
"""
import warnings
from itertools import islice
from typing import Callable, Dict, Iterable, List, Optional

import numpy
import srsly
import torch
from spacy import util
from spacy.attrs import IDX, IS_SPACE
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example, biluo_tags_to_spans, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, torch2xp, xp2torch
from thinc.types import Floats2d

from ..errors import Errors, Warnings
from ..layers.crf_tagger import (
    build_crf_head,
    get_crf_module,
    pad,
    set_tag_names,
    tok2vec_width,
)
from ..layers.pytorch_crf import FORBIDDEN, length_mask
from ..scoring import score_entities
from ..tag_schemes import biluo_to_scheme, check_scheme, gold_biluo, scheme_to_biluo, tag_names

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


@Language.factory(
    "crf_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": DEFAULT_MODEL,
        "scheme": "BIOES",
        "scorer": {"@scorers": "spacy_cluener.entity_scorer.v1"},
    },
    default_score_weights={
        "ents_macro_f": 1.0,
        "ents_f": 0.0,
        "ents_p": 0.0,
        "ents_r": 0.0,
        "ents_per_type": None,
    },
)
def make_crf_ner(nlp: Language, name: str, model: Model, scheme: str, scorer: Optional[Callable]):
    """Create a CRF entity recognizer. scheme (str): "BIO" or "BIOES"."""
    return CRFEntityRecognizer(nlp.vocab, model, name, scheme=scheme, scorer=scorer)


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
    ) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg: Dict = {"labels": [], "scheme": check_scheme(scheme)}
        self.scorer = scorer

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
    def tag_names(self) -> List[str]:
        return tag_names(self.labels, self.scheme)

    @property
    def crf(self):
        """The torch `EmissionCRF` module, once the model is built."""
        return get_crf_module(self.model)

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(Errors.E011.format(label=label))
        if label in self.labels:
            return 0
        if self.crf is not None:
            raise ValueError(Errors.E005.format(label=label, labels=list(self.labels)))
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
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
        if not self.labels:
            raise ValueError(Errors.E004)
        doc_sample = [eg.x for eg in islice(get_examples(), 10)]
        if not doc_sample:
            raise ValueError(Errors.E006)
        self._set_tags()
        self.model.initialize(X=doc_sample)
        # Stored so that loading can build the torch head before reading its
        # weights: a transformer listener's width is not known until the
        # transformer is loaded and linked, after this component's from_disk.
        self.cfg["nI"] = self.model.get_ref("crf_head").get_dim("nI")

    def _set_tags(self) -> None:
        set_tag_names(self.model, self.tag_names, self.scheme)

    def _build_for_loading(self) -> None:
        """Build the torch module from cfg before loading weights into it."""
        self._set_tags()
        width = self.cfg.get("nI") or tok2vec_width(self.model)
        if width is None:
            raise ValueError(Errors.E012)
        build_crf_head(self.model.get_ref("crf_head"), width)

    def predict(self, docs: Iterable[Doc]) -> List[numpy.ndarray]:
        """Tag ids per doc, from constrained Viterbi over the emissions."""
        docs = list(docs)
        if not any(len(doc) for doc in docs):
            return [numpy.zeros((len(doc),), dtype="int64") for doc in docs]
        spaces = [doc.to_array(IS_SPACE).astype(bool) for doc in docs]
        return self._decode(self.model.predict(docs), spaces)

    def _decode(
        self, scores: List[Floats2d], spaces: Optional[List[numpy.ndarray]] = None
    ) -> List[numpy.ndarray]:
        """Viterbi over the emissions. Tokens flagged in `spaces` (standalone
        whitespace: two spaces, a newline) are decoded as `O`. spaCy's `ner`
        never starts an entity on whitespace either; here it matters more,
        because a transformer gives such a token no wordpiece, hence a zero
        vector, so its emissions carry no evidence."""
        crf = self.crf
        lengths = [len(s) for s in scores]
        keep = [i for i, n in enumerate(lengths) if n > 0]
        out = [numpy.zeros((n,), dtype="int64") for n in lengths]
        if not keep:
            return out
        device = next(crf.parameters()).device
        emissions = xp2torch(pad(self.model, [scores[i] for i in keep], len(self.tag_names)), device=device)
        mask = length_mask([lengths[i] for i in keep], device)
        if spaces is not None and any(spaces[i].any() for i in keep):
            # Filled on the host and copied once: row-by-row writes into a
            # GPU tensor are one host-to-device copy per doc.
            is_space = torch.zeros(mask.shape, dtype=torch.bool)
            for row, i in enumerate(keep):
                is_space[row, : lengths[i]] = torch.from_numpy(spaces[i])
            is_space = is_space.to(device)
            not_o = torch.tensor([name != "O" for name in self.tag_names], device=device)
            emissions = emissions.masked_fill(is_space.unsqueeze(-1) & not_o, FORBIDDEN)
        best = crf.decode(emissions, mask).cpu().numpy()
        for row, i in enumerate(keep):
            out[i] = best[row, : lengths[i]]
        return out

    def set_annotations(self, docs: Iterable[Doc], tag_ids: List[numpy.ndarray]) -> None:
        names = self.tag_names
        for doc, ids in zip(docs, tag_ids):
            biluo = scheme_to_biluo([names[i] for i in ids], self.scheme)
            doc.ents = biluo_tags_to_spans(doc, biluo)

    def tag_index(self) -> Dict[str, int]:
        """Tag name -> id, in the order of the model's output columns."""
        return {name: i for i, name in enumerate(self.tag_names)}

    def gold_tag_ids(
        self, example: Example, index: Optional[Dict[str, int]] = None
    ) -> Optional[List[int]]:
        """The gold tags of an example as ids, or None if any token has none.

        index (Optional[Dict[str, int]]): `tag_index()`, passed in by callers
            that convert a whole batch so it is built once, not per example.
        """
        if _same_tokens(example):
            # Skips Example's alignment, which is rebuilt for every update.
            biluo = gold_biluo(example.reference)
        else:
            biluo = example.get_aligned_ner()
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

        The gradients of the CRF's own transition scores are accumulated on
        the torch parameters, which `finish_update` applies with the optimizer.
        """
        examples = list(examples)
        validate_examples(examples, "CRFEntityRecognizer.get_loss")
        index = self.tag_index()
        gold = [self.gold_tag_ids(eg, index) if len(eg.predicted) else None for eg in examples]
        keep = [i for i, tags in enumerate(gold) if tags is not None]
        skipped = sum(1 for eg, tags in zip(examples, gold) if tags is None and len(eg.predicted))
        if skipped:
            warnings.warn(Warnings.W001.format(n=skipped), stacklevel=2)
        d_scores = [self.model.ops.alloc2f(*s.shape) for s in scores]
        if not keep:
            return 0.0, d_scores
        crf = self.crf
        device = next(crf.parameters()).device
        lengths = [len(gold[i]) for i in keep]
        emissions = xp2torch(
            pad(self.model, [scores[i] for i in keep], len(self.tag_names)),
            requires_grad=True,
            device=device,
        )
        # Filled on the host, copied to the device once (not once per doc).
        tags = torch.zeros(emissions.shape[:2], dtype=torch.long)
        for row, i in enumerate(keep):
            tags[row, : lengths[row]] = torch.tensor(gold[i], dtype=torch.long)
        tags = tags.to(device)
        loss = crf.nll(emissions, tags, length_mask(lengths, device))
        loss.backward()
        d_emissions = torch2xp(emissions.grad)
        for row, i in enumerate(keep):
            d_scores[i] = self.model.ops.as_contig(d_emissions[row, : lengths[row]])
        return float(loss.item()), d_scores

    def score(self, examples: Iterable[Example], **kwargs):
        validate_examples(examples, "CRFEntityRecognizer.score")
        return self.scorer(examples, **kwargs)

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()):
        """Two-phase load (as spacy-experimental's coref): cfg and vocab first,
        then the torch head is built from cfg, then its weights are read."""
        deserialize = {
            "cfg": lambda b: self.cfg.update(srsly.json_loads(b)),
            "vocab": lambda b: self.vocab.from_bytes(b, exclude=exclude),
        }
        util.from_bytes(bytes_data, deserialize, exclude)
        self._build_for_loading()
        util.from_bytes(bytes_data, {"model": self.model.from_bytes}, exclude)
        return self

    def from_disk(self, path, *, exclude=tuple()):
        """As `from_bytes`, from the files `to_disk` wrote."""
        deserialize = {
            "cfg": lambda p: self.cfg.update(srsly.read_json(p)),
            "vocab": lambda p: self.vocab.from_disk(p, exclude=exclude),
        }
        util.from_disk(path, deserialize, exclude)
        self._build_for_loading()
        util.from_disk(path, {"model": lambda p: self.model.from_bytes(p.read_bytes())}, exclude)
        return self


def _same_tokens(example: Example) -> bool:
    x, y = example.predicted, example.reference
    return len(x) == len(y) and x.text == y.text and numpy.array_equal(x.to_array(IDX), y.to_array(IDX))
