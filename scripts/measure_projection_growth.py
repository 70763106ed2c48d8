#!/usr/bin/env python3
"""What the read model's change for one event costs as its program grows (issue 21).

Seeds two programs of the benchmark's workload, of 10 and of 1,000 events (each with
20 more), into a fresh SQLite store, then projects each program's events one by one
with the read model's projection (`ComplianceReadModel.change_for`, its folds held
as a running projector holds them; nothing is written) and prints the median CPU
time of the last 20 events of each, and their ratio.

    .venv/bin/python scripts/measure_projection_growth.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any
from uuid import UUID

from api.bootstrap import build_tracker
from bench.growth import SIZES, growing_programs
from bench.reads import seed
from domain.program import Program
from service.readmodel.projection import ComplianceReadModel
from service.readmodel.runner import TrackerJudge, open_read_model


class Stored:
    """One stored event as the projection sees it: its program at that version."""

    def __init__(self, program_id: UUID, at: Program) -> None:
        self.originator_id = program_id
        self.originator_version = at.version
        self.type = at.trail[-1].type
        self._at = at

    def mutate(self, _aggregate: Any) -> Program:
        return self._at


def main() -> None:
    url = f"sqlite:///{tempfile.mkdtemp()}/projection.sqlite"
    made = []
    for size, events in growing_programs():
        seed(url, events, 500)
        made.append((size, events[0][0]))
    tracker = build_tracker(url, cipher_key="")
    model = ComplianceReadModel(open_read_model(tracker), TrackerJudge(tracker))
    medians = {}
    for size, program_id in made:
        whole = tracker.program(program_id)
        versions = [whole.at_version(v) for v in range(1, whole.version + 1)]
        cpu = []
        for at in versions:
            began = time.process_time()
            model.change_for(Stored(program_id, at))
            if at.version > size:
                cpu.append(time.process_time() - began)
        medians[size] = statistics.median(cpu) * 1000
        print(f"{size:>5} events: {medians[size]:.2f} ms CPU a change (median of {len(cpu)})")
    print(f"growth {medians[SIZES[1]] / medians[SIZES[0]]:.1f}")
    tracker.close()


if __name__ == "__main__":
    main()
