"""The benchmark of `wht bench` and `python -m bench` (BENCHMARKS.md): the product against
the stack's own floor. `bench.run.main` is its one entry point; the other modules are its
phases (`ingest`, `reads`), their floor (`floor`), the workload, the stores and the report.
"""
