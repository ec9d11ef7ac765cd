"""Read what `spacy train` leaves behind: scores per evaluation step.

`spacy train OUTPUT` writes only `model-last/` and `model-best/`; their
`meta.json` holds `performance`, the dev scores of that one model. The scores
per step exist only in the logger's output: the console table of
`spacy.ConsoleLogger.v1` (columns `E`, `#`, `LOSS <PIPE>`..., score columns,
`SCORE`), or the JSON lines that `ConsoleLogger.v2/v3` write to `output_file`.
Both are read into rows `{"epoch", "step", "losses": {pipe: loss},
"scores": {name: 0..1}, "score": 0..1}`; the console table prints scores x100,
which is undone here (except for `speed`).
"""
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def read_training_log(path: Path) -> List[Dict[str, Any]]:
    """Rows of a console log or a JSON-lines log; [] if it has none.

    A console log may hold several tables (a restarted run appended to the
    same file); the last one is returned.
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    lines = [ANSI.sub("", line) for line in text.splitlines()]
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("{"):
        return _read_jsonl(lines)
    return _read_console(lines)


def _read_jsonl(lines: List[str]) -> List[Dict[str, Any]]:
    rows = []
    for line in lines:
        try:
            info = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(info, dict) or "step" not in info:
            continue
        rows.append(
            {
                "epoch": int(info.get("epoch", 0)),
                "step": int(info["step"]),
                "losses": {k: float(v) for k, v in info.get("losses", {}).items()},
                "scores": {k: _unscale(k, v) for k, v in info.get("scores", {}).items()},
                "score": float(info.get("score", 0.0)),
            }
        )
    return rows


def _read_console(lines: List[str]) -> List[Dict[str, Any]]:
    tables: List[List[Dict[str, Any]]] = []
    columns: Optional[List[str]] = None
    for raw in lines:
        # a progress bar (tqdm, on the same stream) redraws with \r
        for line in raw.split("\r"):
            cells = line.split()
            if cells[:2] == ["E", "#"]:
                columns = re.split(r"\s{2,}", line.strip())
                tables.append([])
                continue
            if columns is None or len(cells) != len(columns):
                continue
            try:
                values = [float(cell) for cell in cells]
            except ValueError:
                continue
            tables[-1].append(_console_row(columns, values))
    return tables[-1] if tables else []


def _console_row(columns: List[str], values: List[float]) -> Dict[str, Any]:
    row: Dict[str, Any] = {"epoch": 0, "step": 0, "losses": {}, "scores": {}, "score": 0.0}
    for column, value in zip(columns, values):
        if column == "E":
            row["epoch"] = int(value)
        elif column == "#":
            row["step"] = int(value)
        elif column == "SCORE":
            row["score"] = value
        elif column.startswith("LOSS "):
            row["losses"][column[len("LOSS ") :].lower()] = value
        else:
            name = column.lower()
            row["scores"][name] = _unscale(name, value)
    return row


def _unscale(name: str, value: Any) -> float:
    return float(value) if name == "speed" else float(value) / 100


def read_training_dir(path: Path) -> Dict[str, Optional[Dict[str, Any]]]:
    """`performance` of model-best and model-last (None where missing)."""
    out: Dict[str, Optional[Dict[str, Any]]] = {}
    for which in ("best", "last"):
        meta = Path(path) / f"model-{which}" / "meta.json"
        perf = None
        if meta.exists():
            perf = json.loads(meta.read_text(encoding="utf-8")).get("performance")
        out[which] = perf
    return out


def find_training_log(path: Path) -> Optional[Path]:
    """A log with rows for a training directory: `*.jsonl` or `*.log` inside
    it, else `DIR.log` next to it (`spacy train ... > DIR.log`)."""
    path = Path(path)
    candidates = sorted(path.glob("*.jsonl")) + sorted(path.glob("*.log"))
    candidates.append(path.parent / f"{path.name}.log")
    for candidate in candidates:
        if candidate.is_file() and read_training_log(candidate):
            return candidate
    return None


def training_section(
    training_dir: Optional[Path] = None, training_log: Optional[Path] = None
) -> "tuple[Optional[Dict[str, Any]], List[str]]":
    """The report's `training` entry (log path, learning curve rows, and the
    dev `performance` of model-best/model-last), and notes on what is missing.

    RETURNS (Tuple[Optional[dict], List[str]]): None when neither is given.
    """
    notes: List[str] = []
    if training_dir is None and training_log is None:
        return None, notes
    if training_log is None:
        training_log = find_training_log(training_dir)
        if training_log is None:
            notes.append(
                f"No training log with scores found for {training_dir}: no learning curve. "
                "Pass the console output of `spacy train` with --training-log."
            )
    rows = read_training_log(training_log) if training_log is not None else []
    if training_log is not None and not rows:
        notes.append(f"{training_log}: no score table found; no learning curve.")
    section: Dict[str, Any] = {"log": str(training_log) if training_log else None, "curve": rows}
    if training_dir is not None:
        section.update(read_training_dir(training_dir))
    return section, notes
