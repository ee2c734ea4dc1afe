"""hub.runtime.memory: the start-up heap frozen, the youngest generation collected less often.
Run in a child process: freezing is for the whole process, and pytest's must stay as it is."""

from __future__ import annotations

import subprocess
import sys

from hub.runtime.memory import YOUNGEST_THRESHOLD

_CHILD = """
import gc
from hub.runtime.memory import freeze_start_up_heap
before = gc.get_freeze_count()
kept = [[i] for i in range(1000)]
freeze_start_up_heap()
print(before, gc.get_freeze_count() >= before + 1000, *gc.get_threshold())
"""


def test_the_start_up_heap_is_frozen_and_the_youngest_generation_waits_longer() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True
    ).stdout.split()
    before, frozen, youngest, middle, oldest = out
    assert before == "0"
    assert frozen == "True"  # everything alive at the call, the 1,000 lists included
    assert int(youngest) == YOUNGEST_THRESHOLD
    assert (int(middle), int(oldest)) == (10, 10)  # CPython's own for the older two
