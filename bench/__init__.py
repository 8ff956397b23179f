"""Benchmarks: run by hand, print ratios against a baseline measured in the same run; never tests."""
