"""The project's own test suite (run with `pytest`)."""
