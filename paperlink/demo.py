"""The demo: a data directory ready to show the entry screen on invented notices.

`prepare_demo` makes – once, and changing nothing on a second run – a signing key (trusted by the same
data directory), two demo clerks, a batch of sample notices printed to `<home>/demo/batch.pdf` (their data
file next to it), the office's municipality and the batch's cover registered in the ledger, so that the
sheets of that PDF can be scanned, shown to the webcam or typed at once. `paperlink demo` calls it, prints
the result and starts the screen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from paperlink.dataformat import write_notices
from paperlink.errors import PaperlinkError
from paperlink.home import Home
from paperlink.intake import OFFICE_MUNICIPALITY_SETTING, capture_scans
from paperlink.keys import KeyStore
from paperlink.ledger import Channel, Ledger
from paperlink.printing import print_batch, write_pdf
from paperlink.samples import SampleOptions, generate
from paperlink.scanning import interpret
from paperlink.users import add_user, get_user

DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("demo-entry", "デモ 入力", ("entry",)),
    ("demo-review", "デモ 審査", ("entry", "review")),
)
"""The demo clerks: login, display name, roles."""
DEMO_PASSWORD = "paperlink-demo"
"""The demo clerks' password (demo only: anyone who reads this knows it)."""
DEMO_SEED = 7
"""The sample generator's seed for the demo batch."""
ACTOR = "demo"
"""Who the audit log names for what the demo set up."""
DEMO_OFFICE = "131016"
"""The demo office's municipality (千代田区) when the data directory has none set up yet."""


@dataclass(frozen=True)
class DemoResult:
    """What `prepare_demo` set up (or found already set up)."""

    root: Path
    """The data directory."""
    pdf: Path
    """The printed demo batch."""
    batch_id: str | None
    """The batch printed by this call; None when the demo batch was printed before."""
    count: int
    """The notices printed by this call (0 when the demo batch was printed before)."""
    clerks: tuple[str, ...]
    """The demo clerks' logins."""
    password: str
    """Their password."""

    @property
    def printed_now(self) -> bool:
        """Whether this call printed the demo batch (False: it was there already)."""
        return self.batch_id is not None


def prepare_demo(home: Home, count: int = 12, today: dt.date | None = None) -> DemoResult:
    """Set up the demo in `home` (see the module's description); PaperlinkError if a step fails."""
    home = home.ensure()
    store = KeyStore(home)
    folder = home.root / "demo"
    pdf = folder / "batch.pdf"
    batch_id: str | None = None
    printed = 0
    if not store.has_signing_key():
        store.init()
    with Ledger.of(home) as ledger:
        for login, name, roles in DEMO_USERS:
            if get_user(ledger, login) is None:
                add_user(ledger, login, name, set(roles), DEMO_PASSWORD, actor=ACTOR)
        if not pdf.exists():
            office = ledger.setting(OFFICE_MUNICIPALITY_SETTING)
            if office is None:  # a demo office is 千代田区 unless the office was set up already
                office = DEMO_OFFICE
                ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, office, ACTOR)
            notices = generate(SampleOptions(count=count, seed=DEMO_SEED, notice_date=today or dt.date.today(),
                                             municipality_code=office))
            folder.mkdir(parents=True, exist_ok=True)
            write_notices(notices, folder / "notices.jsonl")
            result = print_batch(notices, store.signing_key())
            write_pdf(result, pdf)
            cover = result.cover.manifest_qr_texts if result.cover else ()
            items = [interpret(text, str(pdf), 1, store.trusted()) for text in cover]
            refused = [r for r in capture_scans(ledger, items, Channel.FILE, ACTOR) if not r.accepted]
            if refused:
                raise PaperlinkError("demo_cover_refused", detail=refused[0].message)
            batch_id, printed = result.batch_id, len(notices)
    return DemoResult(root=home.root, pdf=pdf, batch_id=batch_id, count=printed,
                      clerks=tuple(login for login, _, _ in DEMO_USERS), password=DEMO_PASSWORD)
