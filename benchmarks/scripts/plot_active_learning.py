"""The active-learning curve: dev F against labelled docs, one line per
strategy (the mean over the seeds found, each seed's points beside it).

    python scripts/plot_active_learning.py RESULTS_DIR OUTPUT.png

RESULTS_DIR holds `active-learning`'s {strategy}-seed{S}.json; the table of
the same results is built by collate_results.py (docs/results.md).
"""
import statistics
from pathlib import Path

import typer
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bench.active_learning import curves
from spacy_cluener.cli import run_script

COLORS = {"uncertainty": "tab:red", "sequence": "tab:green", "errors": "tab:purple", "random": "tab:blue"}


def main(results: Path = typer.Argument(..., exists=True, file_okay=False), output: Path = typer.Argument(...)) -> None:
    found = curves(results)
    if not found:
        raise SystemExit(f"plot_active_learning: no {{strategy}}-seed{{S}}.json in {results}")
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for strategy, by_seed in sorted(found.items()):
        color = COLORS.get(strategy)
        for rows in by_seed.values():
            ax.plot([r["labelled"] for r in rows], [100 * r["ents_f"] for r in rows], color=color, alpha=0.25,
                    marker=".", linewidth=1)
        labelled = [r["labelled"] for r in next(iter(by_seed.values()))]
        means = [100 * statistics.mean(rows[i]["ents_f"] for rows in by_seed.values()) for i in range(len(labelled))]
        ax.plot(labelled, means, color=color, marker="o", linewidth=2,
                label=f"{strategy} (mean of {len(by_seed)} seed{'s' if len(by_seed) > 1 else ''})")
    ax.set_xlabel("labelled CLUENER train docs")
    ax.set_ylabel("CLUENER dev micro F")
    ax.set_title("Uncertainty first vs random (configs/cnn_crf.cfg, retrained per round)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(output, dpi=100)
    print(f"Wrote {output}")


if __name__ == "__main__":
    run_script(main)
