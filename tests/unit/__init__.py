"""Unit tests: the pure derivations, given facts, then figures and findings."""
