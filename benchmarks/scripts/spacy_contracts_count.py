"""Count the ported spaCy NER tests that pass, from a `pytest -rA` log.

    python -m pytest -rA tests/components/test_ner_contracts_*.py > LOG
    python benchmarks/scripts/spacy_contracts_count.py LOG COMMIT OUT.json

For the count before issue 23, copy the five test files and
tests/components/util.py into a worktree of the earlier commit and run
pytest there (PYTHONPATH=that worktree).
"""
import json
import re
import sys


def main(log: str, commit: str, out: str) -> None:
    results = {}
    for line in open(log, encoding="utf8").read().splitlines():
        m = re.match(r"^(PASSED|FAILED|ERROR) (\S+)", line)
        if m:
            results[m.group(2)] = m.group(1)
    summary = {
        "commit": commit,
        "passed": sum(v == "PASSED" for v in results.values()),
        "failed": sum(v != "PASSED" for v in results.values()),
        "tests": results,
    }
    with open(out, "w", encoding="utf8") as f:
        json.dump(summary, f, indent=2)
    print(summary["passed"], "passed,", summary["failed"], "failed")


if __name__ == "__main__":
    main(*sys.argv[1:4])
