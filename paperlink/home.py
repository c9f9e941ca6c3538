"""The data directory: the one folder that holds all of paperlink's state on a PC.

Chosen by `--home DIR`, else the PAPERLINK_HOME environment variable, else a per-user folder
(%LOCALAPPDATA%\\paperlink on Windows, $XDG_DATA_HOME/paperlink or ~/.local/share/paperlink elsewhere).
It is created on first use, readable by its owner only, because it holds personal data and keys.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from paperlink.errors import HomeError

ENV_VAR = "PAPERLINK_HOME"


def default_home() -> Path:
    """The per-user default data directory."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "paperlink"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "paperlink"


@dataclass(frozen=True)
class Home:
    """Paths inside one data directory."""

    root: Path

    @classmethod
    def resolve(cls, option: str | os.PathLike[str] | None = None) -> Home:
        """The data directory from the --home option, PAPERLINK_HOME or the default, in that order."""
        chosen = option or os.environ.get(ENV_VAR) or default_home()
        return cls(Path(chosen).expanduser().resolve())

    @property
    def ledger(self) -> Path:
        """The SQLite ledger."""
        return self.root / "ledger.sqlite3"

    @property
    def keys(self) -> Path:
        """The print side's key pair and the trusted public keys."""
        return self.root / "keys"

    @property
    def settings(self) -> Path:
        """Office settings (JSON)."""
        return self.root / "settings.json"

    @property
    def scans(self) -> Path:
        """The watched scan folder (with done/ and failed/ inside)."""
        return self.root / "scans"

    def ensure(self) -> Home:
        """Create the directory (owner-only) if needed; HomeError if that is impossible."""
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not os.access(self.root, os.W_OK):
                raise HomeError("home_not_writable", path=self.root)
        except OSError as exc:
            raise HomeError("home_cannot_create", path=self.root, detail=exc.strerror or exc) from None
        return self
