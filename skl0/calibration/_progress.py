"""Training callbacks that feed :func:`skl0._progress.progress` for ``verbose``.

Reading a loss off the device forces a synchronisation, so the loss and the
number of kept records are refreshed every ``every`` steps only; the bar
itself advances every step.
"""

from __future__ import annotations

from .._progress import progress

__all__ = ["Progress"]


class Progress:
    """Callbacks for the gated stage and the polish, sharing one reporter.

    Parameters
    ----------
    verbose : int
        0: silent; 1 or more: a tqdm bar if tqdm imports, else stderr lines.
    total : int
        Steps expected (gated stage plus polish).
    every : int, default=20
        Most steps between refreshes of the numbers; the largest divisor of
        ``total // 10`` up to ``every`` is used, so that the plain-line
        fallback (a line every tenth of the loop) always has fresh numbers.
    """

    def __init__(self, verbose, total, every=20):
        self.reporter = progress(verbose, total, "SparseCalibrator")
        self.show = bool(verbose)
        tenth = max(total // 10, 1)
        self.every = max(d for d in range(1, min(every, tenth) + 1) if tenth % d == 0)
        self.n_kept = None  # set by the caller before the polish

    def _update(self, stage, loss, kept):
        step = self.reporter.n + 1
        if self.show and (step % self.every == 0 or step == self.reporter.total):
            self.reporter.update(stage=stage, loss=float(loss), kept=kept())
        else:
            self.reporter.update()

    def gated(self, step, loss, expected_l0):
        """Callback of the gated stage (the count shown is ``E[L0]``)."""
        self._update("gates", loss, lambda: f"~{float(expected_l0):.0f}")

    def polish(self, step, loss):
        """Callback of the polish stage."""
        self._update("polish", loss, lambda: str(self.n_kept))

    def close(self):
        """Close the reporter."""
        self.reporter.close()
