"""spacy_cluener.JsonlLogger.v1: ConsoleLogger.v3's rows, on disk as soon as
each evaluation is logged."""
import json

import spacy
from spacy.training.loggers import console_logger_v3

from spacy_cluener.training.loggers import make_jsonl_logger

INFO = {
    "epoch": 1,
    "step": 400,
    "losses": {"tok2vec": 12.5, "ner": 345.25},
    "other_scores": {"ents_f": 0.7012, "ents_p": 0.75, "ents_r": 0.66, "ents_macro_f": 0.69},
    "score": 0.69,
}


def nlp_with_two_pipes():
    nlp = spacy.blank("zh")
    nlp.add_pipe("tok2vec")
    nlp.add_pipe("ner")
    nlp.config["training"]["score_weights"] = {"ents_macro_f": 1.0, "ents_f": 0.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None}
    return nlp


def test_rows_are_console_logger_v3_rows(tmp_path):
    nlp = nlp_with_two_pipes()
    ours, theirs = tmp_path / "ours.jsonl", tmp_path / "theirs.jsonl"
    for setup, path in ((make_jsonl_logger(ours), ours), (console_logger_v3(console_output=False, output_file=theirs), theirs)):
        log_step, finalize = setup(nlp)
        log_step(INFO)
        log_step(None)  # a step without an evaluation writes nothing
        log_step({**INFO, "step": 800})
        finalize()
    assert ours.read_text(encoding="utf8") == theirs.read_text(encoding="utf8")
    assert [json.loads(line)["step"] for line in ours.read_text().splitlines()] == [400, 800]


def test_each_row_is_on_disk_before_training_ends(tmp_path):
    path = tmp_path / "log.jsonl"
    log_step, finalize = make_jsonl_logger(path)(nlp_with_two_pipes())
    log_step(INFO)
    # read by another open file, as a second process or a killed run would see it
    assert json.loads(path.read_text(encoding="utf8"))["scores"]["ents_f"] == 70.12
    finalize()


def test_registered_by_importing_the_package():
    # the decorator, not only the entry point: catalogue's own registry has it
    import catalogue

    import spacy_cluener  # noqa: F401

    assert catalogue.check_exists("spacy", "loggers", "spacy_cluener.JsonlLogger.v1")
