"""Parts of scripts/crf_cost.py: data, configs, timing, the plain HF loop, GPU."""
