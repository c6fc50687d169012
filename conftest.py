"""For every test and doctest: draw figures off-screen (the docstrings' plot
examples are written as a user runs them, with no backend chosen)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
