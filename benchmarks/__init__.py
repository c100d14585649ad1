"""Benchmarks run by ``make bench``: each module's ``run()`` returns rows of
{target, ours, baseline, ratio, unit}, measured side by side in the same run."""
