"""Performance benchmarks, run as python -m benchmarks.<name>."""
