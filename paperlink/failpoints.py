"""Failpoints: named places where a test may kill the process, to prove crash safety.

`failpoint("line.after-import")` does nothing unless the environment variable PAPERLINK_FAILPOINT names
that point (optionally `name:N` for its N-th pass); then the process kills itself with SIGKILL – the same
as a power cut as far as the files and the ledger can tell. Production never sets the variable.

Windows has no SIGKILL: there `os.kill` with SIGTERM ends the process at once (TerminateProcess, exit code
15), which is the same to the files; `KILLED_RETURNCODE` is what the parent then sees.
"""

from __future__ import annotations

import os
import signal
import sys

KILL_SIGNAL: int = getattr(signal, "SIGKILL", signal.SIGTERM)
"""SIGKILL, or SIGTERM where there is none (Windows)."""
KILLED_RETURNCODE = KILL_SIGNAL if sys.platform == "win32" else -KILL_SIGNAL
"""The return code of a child process killed at a failpoint, as subprocess reports it."""

ENV_VAR = "PAPERLINK_FAILPOINT"
_passes: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Kill this process (SIGKILL, or TerminateProcess on Windows) if PAPERLINK_FAILPOINT names this point (and pass)."""
    wanted = os.environ.get(ENV_VAR)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] >= int(nth or 1):
        os.kill(os.getpid(), KILL_SIGNAL)
