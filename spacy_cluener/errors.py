"""Error messages with codes, in the style of spaCy's `spacy.errors`."""
from spacy.errors import ErrorsWithCodes


class Errors(metaclass=ErrorsWithCodes):
    E001 = "Unknown tag scheme '{scheme}'. Choose one of: {allowed}."
    E002 = "Ill-formed tag '{tag}': expected 'O' or PREFIX-LABEL such as 'B-PER'."
    E003 = "Tag '{tag}' has a prefix that the {scheme} scheme does not use."
    E004 = ("The crf_ner component has no labels. Train it with a corpus that has "
            "entities, or give labels in [initialize.components.crf_ner.labels].")
    E005 = ("Cannot add label '{label}' to crf_ner after it was initialized: the CRF's "
            "transition matrix is sized for {labels}. Retrain with the new label.")
    E006 = ("crf_ner was initialized without examples: pass get_examples returning "
            "at least one Example so the model's input width can be inferred.")
    E007 = ("The gold entities of {n} doc(s) in this batch are incomplete (missing or "
            "misaligned tokens); the CRF needs a tag for every token, so they are left "
            "out of the loss.")
    E008 = "Unknown input format '{fmt}'. Choose one of: {allowed}."
    E009 = ("Component '{component}' reads its transformer weights from '{path}', which is "
            "not a directory. Give a directory with config.json, the weights and vocab.txt "
            "(scripts/train.py --bert DIR, or --components.{component}.model.name DIR), "
            "or a Hugging Face hub name.")
