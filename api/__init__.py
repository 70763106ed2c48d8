"""HTTP and command-line front ends of the tracker."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def tool_version() -> str:
    """The installed wht's version: pyproject.toml is the one place it is written."""
    try:
        return version("wht")
    except PackageNotFoundError:
        return "unknown"
