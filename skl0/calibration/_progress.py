"""Progress reporting for ``verbose``: a tqdm bar, or periodic prints without tqdm.

Reading a loss off the device forces a synchronisation, so the numbers are
refreshed every ``every`` steps only.
"""

from __future__ import annotations

__all__ = ["Progress"]


class Progress:
    """Report the loss and the (expected) number of kept records.

    Parameters
    ----------
    verbose : int
        0: silent; 1 or more: a tqdm bar if tqdm imports, else prints.
    total : int
        Steps expected (gated stage plus polish).
    every : int, default=20
        Steps between refreshes of the numbers.
    """

    def __init__(self, verbose, total, every=20):
        self.active = bool(verbose)
        self.every = max(int(every), 1)
        self.total = total
        self.done = 0
        self.n_kept = None  # set by the caller before the polish
        self.bar = None
        if self.active:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self.print_every = max(total // 10, 1)
            else:
                self.bar = tqdm(total=total, desc="SparseCalibrator", leave=True)

    def _report(self, stage, loss, kept):
        self.done += 1
        if not self.active:
            return
        if self.bar is not None:
            self.bar.update(1)
            if self.done % self.every == 0 or self.done == self.total:
                self.bar.set_postfix(
                    stage=stage, loss=f"{float(loss):.3g}", kept=kept()
                )
        elif self.done % self.print_every == 0 or self.done == self.total:
            print(
                f"[SparseCalibrator] step {self.done}/{self.total} {stage}: "
                f"loss={float(loss):.4g} kept={kept()}"
            )

    def gated(self, step, loss, expected_l0):
        """Callback of the gated stage (the count shown is ``E[L0]``)."""
        self._report("gates", loss, lambda: f"~{float(expected_l0):.0f}")

    def polish(self, step, loss):
        """Callback of the polish stage."""
        self._report("polish", loss, lambda: f"{self.n_kept}")

    def close(self):
        """Close the bar, if any."""
        if self.bar is not None:
            self.bar.close()
