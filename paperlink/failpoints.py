"""Failpoints: named places where a test may kill the process, to prove crash safety.

`failpoint("line.after-import")` does nothing unless the environment variable PAPERLINK_FAILPOINT names
that point (optionally `name:N` for its N-th pass); then the process kills itself with SIGKILL – the same
as a power cut as far as the files and the ledger can tell. Production never sets the variable.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "PAPERLINK_FAILPOINT"
_passes: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Kill this process with SIGKILL if PAPERLINK_FAILPOINT names this point (and pass)."""
    wanted = os.environ.get(ENV_VAR)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
