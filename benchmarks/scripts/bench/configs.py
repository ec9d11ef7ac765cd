"""Config surgery: the same encoder under `crf_ner`, spaCy's `ner`, or a softmax tagger."""
import copy
from pathlib import Path
from typing import Dict

from spacy.pipeline import ner as spacy_ner
from spacy.pipeline import tagger as spacy_tagger
from thinc.api import Config

from .data import CNN_CONFIG, TRF_CONFIG

# spaCy's own default models for the two reference heads; their tok2vec is
# replaced by the listener that crf_ner uses.
NER_MODEL = Config().from_str(spacy_ner.default_model_config)["model"]
TAGGER_MODEL = Config().from_str(spacy_tagger.default_model_config)["model"]


def find_listener(block: dict) -> dict:
    """The (innermost) listener block under a head's model."""
    while "Listener" not in block.get("@architectures", ""):
        if "tok2vec" not in block:
            raise ValueError("benchmark: no listener found under the crf_ner model")
        block = block["tok2vec"]
    return block


def head_variants(base: Config) -> Dict[str, Config]:
    """base (with a `crf_ner` on a listener) and the same pipeline with
    spaCy's `ner` or `tagger` in its place, on the same listener."""
    listener = find_listener(base["components"]["crf_ner"]["model"])
    blocks = {
        "crf_ner": ("crf_ner", base["components"]["crf_ner"]),
        "ner": ("ner", {"factory": "ner", "model": {**NER_MODEL, "tok2vec": listener}}),
        "softmax": ("tagger", {"factory": "tagger", "model": {**TAGGER_MODEL, "tok2vec": listener}}),
    }
    out = {}
    for key, (name, block) in blocks.items():
        config = base.copy()
        config["nlp"]["pipeline"] = [p for p in base["nlp"]["pipeline"] if p != "crf_ner"] + [name]
        del config["components"]["crf_ner"]
        config["components"][name] = copy.deepcopy(block)
        # The heads are timed, not scored: keep spaCy's defaults for weights.
        config["training"].pop("score_weights", None)
        out[key] = config
    return out


def cnn_config(settings: dict) -> Config:
    """configs/cnn_crf.cfg with the encoder sizes of `settings`."""
    config = Config().from_disk(CNN_CONFIG, interpolate=False)
    model = config["components"]["tok2vec"]["model"]
    model["encode"]["width"], model["encode"]["depth"] = settings["width"], settings["depth"]
    model["embed"]["char_rows"] = settings["char_rows"]
    model["embed"]["bigram_rows"] = settings["bigram_rows"]
    return config


def trf_config(bert_dir: Path) -> Config:
    config = Config().from_disk(TRF_CONFIG, interpolate=False)
    config["components"]["transformer"]["model"]["name"] = str(bert_dir)
    return config
