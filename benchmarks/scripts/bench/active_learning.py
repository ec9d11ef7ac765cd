"""Reading `active-learning`'s results (scripts/active_learning.py): one
JSON per strategy and seed, for the table (collate_results.py) and the
chart (plot_active_learning.py)."""
import json
import re
import statistics
from pathlib import Path
from typing import Dict, List, Optional

NAME = re.compile(r"(?P<strategy>[a-z]+)-seed(?P<seed>\d+)\.json")


def curves(results: Path) -> Dict[str, Dict[int, List[dict]]]:
    """{strategy: {seed: rows}}, rows as the script writes them (round,
    labelled, ents_p, ents_r, ents_f, ...)."""
    out: Dict[str, Dict[int, List[dict]]] = {}
    for path in sorted(Path(results).glob("*-seed*.json")):
        match = NAME.fullmatch(path.name)
        if match:
            data = json.loads(path.read_text(encoding="utf8"))
            out.setdefault(match["strategy"], {})[int(match["seed"])] = data["rounds"]
    return out


def mean_curve(by_seed: Dict[int, List[dict]]) -> List[dict]:
    """Per round: labelled docs and the mean dev F over the seeds."""
    first = next(iter(by_seed.values()))
    return [{"labelled": row["labelled"], "f": statistics.mean(rows[i]["ents_f"] for rows in by_seed.values())}
            for i, row in enumerate(first)]


def docs_to_reach(curve: List[dict], target: float) -> Optional[float]:
    """Labelled docs at which a mean curve first reaches `target` F, read by
    linear interpolation between rounds; None if it never does."""
    previous = None
    for point in curve:
        if point["f"] >= target:
            if previous is None:
                return float(point["labelled"])
            lo, hi = previous, point
            share = (target - lo["f"]) / (hi["f"] - lo["f"])
            return lo["labelled"] + share * (hi["labelled"] - lo["labelled"])
        previous = point
    return None
