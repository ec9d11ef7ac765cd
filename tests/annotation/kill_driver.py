"""`python kill_driver.py N ARGS...`: run `spacy_cluener ARGS...` and SIGKILL
this driver process at its N-th finished shard, after the worker wrote the
shard file and before the driver records it: the worst moment for
exactly-once (a written shard the journal does not list)."""
import os
import signal
import sys

from spacy_cluener.annotation import manifest

KILL_AT = int(sys.argv[1])
_record = manifest.Progress.record
_calls = [0]


def record(self, entry):
    _calls[0] += 1
    if _calls[0] == KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
    _record(self, entry)


manifest.Progress.record = record

if __name__ == "__main__":
    from spacy_cluener.cli import app

    app(sys.argv[2:], prog_name="spacy_cluener")
