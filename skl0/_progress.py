"""Progress reporting for ``verbose``: a tqdm bar, plain prints, or nothing.

One helper, :func:`progress`, so every training loop reports the same way:

- ``verbose=0``: a no-op object (no import, no output, no cost);
- ``verbose>=1`` with tqdm installed: a tqdm bar on stderr whose postfix
  shows the numbers passed to ``update``;
- ``verbose>=1`` without tqdm: about ten plain lines on stderr, and one
  for the last step when the loop ends between reporting points.
"""

from __future__ import annotations

import sys

__all__ = ["progress"]


def progress(verbose, total, desc):
    """Return a progress reporter for a loop of ``total`` steps.

    Parameters
    ----------
    verbose : int or bool
        0 (or ``False``) reports nothing; 1 or more shows a tqdm bar when
        tqdm imports, else prints a line to stderr about every tenth of
        ``total`` (every 10 steps when ``total`` is None), and on ``close``
        one for the last step if that step had no line.
    total : int or None
        Number of steps expected; ``None`` when unknown (the print fallback
        then reports every 10 steps).
    desc : str
        Short label shown in front of the bar or the lines, such as
        ``"L0Classifier"``.

    Returns
    -------
    reporter : object
        Has ``update(n=1, **postfix)``, which advances by ``n`` steps and
        shows the keyword values (floats to 4 significant digits), and
        ``close()``. It is also a context manager that closes on exit.

    Examples
    --------
    >>> from skl0._progress import progress
    >>> with progress(0, total=3, desc="fit") as bar:
    ...     for step in range(3):
    ...         bar.update(loss=1.0 / (step + 1))
    >>> bar.n
    3
    """
    if not verbose:
        return _Silent(total, desc)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Printer(total, desc)
    return _Bar(tqdm, total, desc)


def _format(postfix):
    return {
        key: (f"{value:.4g}" if isinstance(value, float) else str(value))
        for key, value in postfix.items()
    }


class _Silent:
    """The ``verbose=0`` reporter: counts steps, shows nothing."""

    #: Whether ``update`` shows anything (a fit passes no per-step callback otherwise).
    shows = False

    def __init__(self, total, desc):
        self.total = total
        self.desc = desc
        self.n = 0

    def update(self, n=1, **postfix):
        """Advance by ``n`` steps; ``postfix`` is ignored."""
        self.n += n

    def close(self):
        """Nothing to close."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _Bar(_Silent):
    """A tqdm bar on stderr; the postfix carries the latest numbers."""

    shows = True

    def __init__(self, tqdm, total, desc):
        super().__init__(total, desc)
        self.bar = tqdm(total=total, desc=desc, leave=True, file=sys.stderr)

    def update(self, n=1, **postfix):
        """Advance the bar by ``n`` steps and show ``postfix``."""
        self.n += n
        if postfix:
            self.bar.set_postfix(_format(postfix), refresh=False)
        self.bar.update(n)

    def close(self):
        """Close the bar (idempotent)."""
        self.bar.close()


class _Printer(_Silent):
    """Without tqdm: one line on stderr about every tenth of the loop, and the last step."""

    shows = True

    def __init__(self, total, desc):
        super().__init__(total, desc)
        self.every = max(total // 10, 1) if total else 10
        self.closed = False
        self.printed = 0  # the step of the last line
        self.postfix = {}

    def update(self, n=1, **postfix):
        """Advance by ``n`` steps; print when a reporting point is passed."""
        before, self.n = self.n, self.n + n
        self.postfix = postfix
        crossed = self.n // self.every > before // self.every
        finished = self.total is not None and before < self.total <= self.n
        if crossed or finished:
            self._print()

    def _print(self):
        of = f"/{self.total}" if self.total is not None else ""
        fields = "".join(f" {k}={v}" for k, v in _format(self.postfix).items())
        print(f"[{self.desc}] step {self.n}{of}{fields}", file=sys.stderr, flush=True)
        self.printed = self.n

    def close(self):
        """Print the last step if it has no line yet (a fit of fewer than 10
        steps of unknown total printed nothing at all); idempotent."""
        if not self.closed and self.n > self.printed:
            self._print()
        self.closed = True
