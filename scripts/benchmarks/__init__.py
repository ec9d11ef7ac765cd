"""Parts of scripts/benchmark.py: data, configs, timing, the plain HF loop, GPU."""
