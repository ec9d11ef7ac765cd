"""Issue 24 #6: with max_steps below eval_frequency, model-best was the
untrained step 0; the last steps of other max_steps never counted."""
import pytest

from spacy_cluener.training.schedule import eval_frequency_for


@pytest.mark.parametrize("max_steps,every,expected", [
    (3200, 400, 400), (0, 400, 400), (10, 400, 10), (1000, 400, 250), (1200, 500, 400), (7, 7, 7)])
def test_the_last_step_is_evaluated(max_steps, every, expected):
    got, message = eval_frequency_for(max_steps, every)
    assert got == expected and (message == "") == (got == every)
    if max_steps:
        assert max_steps % got == 0 and got <= every


def test_an_interval_far_from_the_configured_one_is_refused():
    got, message = eval_frequency_for(997, 400)
    assert got is None and "max_steps 800 or 1200" in message
