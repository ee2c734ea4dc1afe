"""``python -m benchmarks``: the whole bench (what ``make bench`` runs)."""

from benchmarks.runner import main

main()
