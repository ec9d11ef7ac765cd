"""When `spacy train` evaluates: every `eval_frequency` steps, and model-best
comes from those evaluations only. With `max_steps` below `eval_frequency`,
model-best is the untrained model of step 0; with a `max_steps` that is not a
multiple of it, the steps after the last evaluation never count."""
from typing import Optional, Tuple


def eval_frequency_for(max_steps: int, eval_frequency: int) -> Tuple[Optional[int], str]:
    """An evaluation interval that also scores the last step, and why it was
    changed ("" if it was not).

    RETURNS: (eval_frequency, message); eval_frequency None: no divisor of
    max_steps is at least half of eval_frequency, so any adjustment would
    evaluate far more often than configured (the message says what to give).
    """
    if max_steps <= 0 or eval_frequency <= 0 or max_steps % eval_frequency == 0:
        return eval_frequency, ""
    if max_steps < eval_frequency:
        return max_steps, (f"max_steps {max_steps} is below eval_frequency {eval_frequency}: "
                           f"evaluating at step {max_steps} too (eval_frequency = {max_steps})")
    best = max(d for d in range(1, eval_frequency + 1) if max_steps % d == 0)
    if best * 2 >= eval_frequency:
        return best, (f"max_steps {max_steps} is not a multiple of eval_frequency {eval_frequency}: "
                      f"eval_frequency = {best}, so the last step is evaluated")
    lower, upper = (max_steps // eval_frequency) * eval_frequency, (max_steps // eval_frequency + 1) * eval_frequency
    return None, (f"max_steps {max_steps} is not a multiple of eval_frequency {eval_frequency}, and no "
                  f"interval near it ends on step {max_steps}: the last steps would never be evaluated. "
                  f"Give max_steps {lower} or {upper}, or set training.eval_frequency.")
