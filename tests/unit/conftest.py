"""Shared fixtures of the unit tests."""

from __future__ import annotations

import pytest

from .builders import Program


@pytest.fixture
def program() -> Program:
    """An empty program trail to add facts to."""
    return Program()
