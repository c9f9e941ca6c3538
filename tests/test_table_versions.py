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
