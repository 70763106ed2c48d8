"""Shared fixtures of the unit tests."""

from __future__ import annotations

import sys
from pathlib import Path

# The project is not installed into the venv; make `domain` and `projections`
# importable however pytest is started (harmless when the root is on the path).
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from .builders import Program  # noqa: E402


@pytest.fixture
def program() -> Program:
    """An empty program trail to add facts to."""
    return Program()
