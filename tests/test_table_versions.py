"""Table versions: the index pins every table by digest; data files and signed manifests name the version."""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.codetables import TABLE_NAMES, table_bytes, table_set, tables, tables_version
from paperlink.keys import key_id
from paperlink.notice import canonical_json
from paperlink.transport import Manifest, TransportError, sign_manifest


def test_the_index_pins_every_table_by_digest_and_version() -> None:
    """GIVEN tables/index.json THEN it names every table with the SHA-256 of its exact bytes and its version."""
    index = table_set()
    assert index["format"] == "paperlink-code-tables"
    assert list(index["tables"]) == list(TABLE_NAMES)
    for name in TABLE_NAMES:
        entry = index["tables"][name]
        assert entry["sha256"] == hashlib.sha256(table_bytes(name)).hexdigest(), f"{name}: run tools/table_index.py"
        assert entry["version"] == tables().version(name)
        assert entry["version"] <= index["version"]


def test_every_shipped_table_file_is_in_the_index() -> None:
    files = {p.name for p in resources.files("paperlink").joinpath("tables").iterdir() if p.name.endswith(".json")}
    assert files == {f"{n}.json" for n in TABLE_NAMES} | {"index.json"}


def test_the_signed_manifest_names_the_tables_version() -> None:
    key = Ed25519PrivateKey.generate()
    manifest = sign_manifest("B1", "B1.jsonl", b"x", 1, key)
    obj = json.loads(manifest.to_bytes())
    assert (obj["version"], obj["tables"]) == (2, tables_version())
    read = Manifest.from_bytes(manifest.to_bytes())
    read.verify({key_id(key.public_key()): key.public_key()})   # the version is inside what is signed
    forged = {**obj, "tables": "2099-01-01"}
    with pytest.raises(TransportError):
        Manifest.from_bytes(json.dumps(forged).encode()).verify({key_id(key.public_key()): key.public_key()})


def test_a_version_1_manifest_still_reads_and_verifies() -> None:
    key = Ed25519PrivateKey.generate()
    unsigned = {"format": "paperlink-batch-manifest", "version": 1, "batch_id": "B1", "created": "2026-11-26T00:00:00Z",
                "files": [{"name": "B1.jsonl", "size": 1, "sha256": hashlib.sha256(b"x").hexdigest(), "count": 1}],
                "key_id": key_id(key.public_key()).hex()}
    signature = base64.b64encode(key.sign(canonical_json(unsigned).encode())).decode()
    manifest = Manifest.from_bytes(json.dumps({**unsigned, "signature": signature}).encode())
    assert manifest.tables is None
    manifest.verify({key_id(key.public_key()): key.public_key()})


def test_format_md_publishes_the_tables_as_they_are() -> None:
    """GIVEN docs/format.md WHEN its generated blocks are regenerated from the tables THEN nothing changes."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, str(root / "tools" / "format_tables.py"), "--check"], cwd=root)
    assert result.returncode == 0, "run tools/format_tables.py"


def test_the_reference_runtime_has_the_unicode_version_of_the_format() -> None:
    """GIVEN Python 3.11 (the reference runtime) THEN its character database is the format's Unicode 14.0.0."""
    import sys
    import unicodedata

    if sys.version_info[:2] != (3, 11):
        pytest.skip("another Python: docs/format.md section 12 says what differs")
    assert unicodedata.unidata_version == "14.0.0"


def test_a_receiver_with_older_tables_says_so_instead_of_rejecting_the_notices(home, tmp_path) -> None:
    """GIVEN a batch on the shared folder validated with newer tables (a status ours lack) WHEN received
    THEN it is quarantined with the one reason that this paperlink's tables are older, not 'invalid status'."""
    import copy

    from paperlink.ledger import Ledger
    from paperlink.notice import canonical_json as cj
    from paperlink.sharedfolder import Receiver
    from tests.conftest import BASE_RECORD

    key = Ed25519PrivateKey.generate()
    folder = tmp_path / "link"
    folder.mkdir()
    record = copy.deepcopy(BASE_RECORD)
    record["status"] = "未来の在留資格"
    header = {"format": "paperlink-notices", "version": 2, "count": 1, "tables": "2099-01-01"}
    data = (cj(header) + "\n" + cj(record) + "\n").encode()
    (folder / "B20991126-AAAA.jsonl").write_bytes(data)
    manifest = sign_manifest("B20991126-AAAA", "B20991126-AAAA.jsonl", data, 1, key)
    (folder / "B20991126-AAAA.manifest.json").write_bytes(manifest.to_bytes())
    with Ledger(home / "ledger.sqlite3") as ledger:
        (result,) = Receiver(folder, ledger, {key_id(key.public_key()): key.public_key()}).receive_once()
    assert result.outcome == "quarantined"
    assert "2099-01-01" in result.reason and "older tables" in result.reason and "status" not in result.reason
