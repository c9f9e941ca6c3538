"""Held notices on the entry screen: the board counts and lists them (保留), and a held notice's page says why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.ledger import Ledger
from paperlink.samples import SampleOptions, generate
from paperlink.transport import import_batch, sign_manifest


def test_a_notice_for_another_municipality_is_held_listed_and_explained(client: Any, ledger: Ledger) -> None:
    """GIVEN a line batch of two where one notice is for 札幌市中央区 WHEN imported THEN the board shows 保留 for it,
    and its page says it is addressed to 011011, not this office."""
    from paperlink.dataformat import dumps_notices
    from paperlink.intake import OFFICE_MUNICIPALITY_SETTING

    ledger.set_setting(OFFICE_MUNICIPALITY_SETTING, "131016", "test")
    ours, other = generate(SampleOptions(count=2, seed=5, notice_date=dt.date(2026, 11, 26)))
    other = type(other)(**{**other.__dict__, "municipality_code": "011011"})
    key = Ed25519PrivateKey.generate()
    data = dumps_notices([ours, other])
    manifest = sign_manifest("B20261126-HELD", "B20261126-HELD.jsonl", data, 2, key)
    result = import_batch(ledger, manifest, [ours, other], "line", "receiver")
    assert [(seq, hold.code) for seq, hold in result.held] == [(2, "hold_foreign_municipality")]
    client.login("aoki")
    board = client.get("/board").get_data(as_text=True)
    assert "保留" in board and other.notice_id in board and "保留の理由" in board
    row = ledger.query("SELECT id FROM notices WHERE batch_id = ? AND seq = 2", ("B20261126-HELD",))[0][0]
    page = client.get(f"/notice/{row}", follow_redirects=True).get_data(as_text=True)
    assert "保留中" in page and "011011" in page and "131016" in page
