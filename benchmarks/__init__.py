"""`make bench`: the hub's figures side by side with what its stack can do, from one run on one
broker. Figures, never assertions; how to read them: docs/benchmarks.md."""

__all__: list[str] = []
