"""Fixtures the read-model tests share: the read model in the tracker's store, and a
runner on it (stopped, its projector lock released, after each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.application import Tracker
from service.readmodel.runner import ReadModelRunner, open_read_model
from service.readmodel.view import ReadModelRecorder


@pytest.fixture
def view(tracker: Tracker) -> ReadModelRecorder:
    return open_read_model(tracker)


@pytest.fixture
def runner(tracker: Tracker, view: ReadModelRecorder) -> Iterator[ReadModelRunner]:
    runner = ReadModelRunner(tracker, view)
    yield runner
    runner.stop()
    runner.lock.release()
