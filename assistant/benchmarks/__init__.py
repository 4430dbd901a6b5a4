"""Speed and memory benchmarks behind ``assistant bench`` (method and figures: bench/README.md)."""

from .runner import BenchConfig, run_bench

__all__ = ["BenchConfig", "run_bench"]
