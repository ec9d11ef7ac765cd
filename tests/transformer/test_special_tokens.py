"""Text that spells a special token ("[SEP]", "[CLS]", "[PAD]", "[MASK]")
is text: the tokenizer of configs/trf_crf.cfg splits it into ordinary
wordpieces (`split_special_tokens`), so it neither ends the sequence for BERT
nor hands a special token's vector to the characters "[", "S", "E", "P", "]";
also after saving and loading."""
import spacy
from spacy import util

from ..util import TRF_CONFIG, make_examples

TEXT = "浙商银行企业信贷部[SEP]叶老桂博士[CLS][PAD][MASK]在北京"


def special_ids(nlp, text):
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    wordpieces = nlp(text)._.trf_data.wordpieces
    ids = wordpieces.input_ids[0].tolist()[: wordpieces.lengths[0]]
    return [i for i in ids if i in tokenizer.all_special_ids]


def test_spelled_special_tokens_are_text(tiny_bert, tmp_path):
    config = util.load_config(TRF_CONFIG, overrides={"components.transformer.model.name": str(tiny_bert)},
                              interpolate=False).interpolate()
    nlp = util.load_model_from_config(config, auto_fill=True, validate=True)
    nlp.initialize(lambda: make_examples(nlp))
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    expected = [tokenizer.cls_token_id, tokenizer.sep_token_id]  # the window's own, only
    assert special_ids(nlp, TEXT) == expected
    nlp.to_disk(tmp_path / "nlp")
    assert special_ids(spacy.load(tmp_path / "nlp"), TEXT) == expected
