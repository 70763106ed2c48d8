"""The regulator's read model: its projection, tables, queries and the runner that keeps it."""
