"""The data directory: the one folder that holds all of paperlink's state on a PC.

Chosen by `--home DIR`, else the PAPERLINK_HOME environment variable, else a per-user folder
(%LOCALAPPDATA%\\paperlink on Windows, $XDG_DATA_HOME/paperlink or ~/.local/share/paperlink elsewhere).
It is created on first use, readable by its owner only, because it holds personal data and keys; paperlink
refuses to run on one that others can read and it cannot make private (paperlink/private.py).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from paperlink.errors import HomeError
from paperlink.private import ensure_private

ENV_VAR = "PAPERLINK_HOME"
LEDGER_ENV_VAR = "PAPERLINK_LEDGER"
"""The ledger to use instead of the data directory's SQLite file (a `postgresql://…` URL; see `Home.ledger_target`)."""


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
    ledger_option: str | None = None
    """The ledger named by the --ledger option (None: PAPERLINK_LEDGER, else the SQLite file here)."""

    @classmethod
    def resolve(cls, option: str | os.PathLike[str] | None = None, ledger: str | None = None) -> Home:
        """The data directory from the --home option, PAPERLINK_HOME or the default, in that order (and the
        --ledger option, if given)."""
        chosen = option or os.environ.get(ENV_VAR) or default_home()
        return cls(Path(chosen).expanduser().resolve(), ledger or None)

    @property
    def ledger_target(self) -> str | Path:
        """The ledger this data directory works on: the --ledger option, else PAPERLINK_LEDGER, else its own SQLite
        file (`ledger`). A URL (`postgresql://…`) is a database on a server shared by several desks; the audit
        anchors, keys, scans and exports stay here, in the data directory, either way."""
        chosen = self.ledger_option or os.environ.get(LEDGER_ENV_VAR)
        if not chosen:
            return self.ledger
        from paperlink.ledger.dialect import DbError, check_target, is_url

        try:
            check_target(chosen)  # a mistyped URL is refused, not taken for a SQLite file's name
        except DbError as exc:
            raise HomeError(exc.code, **exc.params) from None
        return chosen if is_url(chosen) else Path(chosen)

    @property
    def ledger_is_file(self) -> bool:
        """Whether the ledger is this data directory's SQLite file (not a database on a server)."""
        return isinstance(self.ledger_target, Path)

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

    def personal_files(self) -> list[Path]:
        """The files here that hold personal data or secrets and exist: the ledger (with its WAL and shared
        memory), the signing key, the session key."""
        paths = [self.ledger, self.ledger.with_name(self.ledger.name + "-wal"),
                 self.ledger.with_name(self.ledger.name + "-shm"), self.keys / "signing-key.pem",
                 self.root / "secret_key"]
        return [path for path in paths if path.is_file()]

    def ensure(self) -> Home:
        """Create the directory if needed, make it and its personal-data files owner-only (mode 0700/0600, or an
        owner-only ACL on Windows: paperlink.private) and verify that; HomeError if any of that is impossible –
        paperlink refuses to run on a data directory others can read."""
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not os.access(self.root, os.W_OK):
                raise HomeError("home_not_writable", path=self.root)
        except OSError as exc:
            raise HomeError("home_cannot_create", path=self.root, detail=exc.strerror or exc) from None
        ensure_private(self.root)
        for path in self.personal_files():
            ensure_private(path)
        return self
