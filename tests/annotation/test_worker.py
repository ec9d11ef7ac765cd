"""ShardAnnotator: the settings a worker applies to the pipeline it loads."""
import spacy

from spacy_cluener.annotation.worker import ShardAnnotator, WorkerSettings


def test_no_scores_turns_a_saved_setting_off(crf_model, tmp_path):
    """--no-scores skips the forward-backward also for a pipeline saved with
    scores on (it only left them out of the output)."""
    nlp = spacy.load(crf_model)
    nlp.get_pipe("crf_ner").with_scores = True
    nlp.to_disk(tmp_path / "scored")
    off = ShardAnnotator(WorkerSettings(str(tmp_path / "scored"), str(tmp_path / "out"), scores=False))
    assert not off.nlp.get_pipe("crf_ner").with_scores and off.scores_key is None
    on = ShardAnnotator(WorkerSettings(str(crf_model), str(tmp_path / "out"), scores=True))
    assert on.nlp.get_pipe("crf_ner").with_scores and on.scores_key == "crf_ner"
