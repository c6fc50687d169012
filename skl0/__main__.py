"""``python -m skl0``: the same as the ``skl0`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
