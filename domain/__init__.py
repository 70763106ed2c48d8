"""The work hardening program: its events, its policy packs, its rules of record."""
