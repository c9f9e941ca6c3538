"""What patterns 1 (shared folder) and 2 (USB media) share: the signed batch manifest and the one import path.

A batch travels as its data file (the notice data format, docs/format.md) and a manifest:

    {"format":"paperlink-batch-manifest","version":2,"batch_id":"B20261126-7K3Q","created":"…",
     "files":[{"name":"B20261126-7K3Q.jsonl","size":12345,"sha256":"…","count":40}],
     "key_id":"1a2b3c4d","tables":"2026-12-01","signature":"<base64 Ed25519 over the manifest without its signature>"}

Version 2 adds `tables`, the version of the code tables that validated the batch (version 1 manifests still read).

`import_batch` is the single way line, media and (through the same ledger tables) paper notices enter the
ledger: one transaction, the batch and all its notices, verified by the signature of a trusted key – so
`paperlink export` writes them like confirmed paper records. A batch id seen before with the same data is
a duplicate (nothing imported twice); with other data, a conflict.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paperlink.codetables import tables_version
from paperlink.datafile import json_detail
from paperlink.errors import PaperlinkError
from paperlink.failpoints import failpoint
from paperlink.holding import Held
from paperlink.keys import key_id
from paperlink.ledger import Ledger, NoticeState, Transport, VerificationMethod, now, store
from paperlink.notice import Notice, canonical_json

MANIFEST_FORMAT = "paperlink-batch-manifest"
MANIFEST_VERSION = 2
_BATCH_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")
_KEYS_V1 = {"format", "version", "batch_id", "created", "files", "key_id", "signature"}
_KEYS = _KEYS_V1 | {"tables"}
_FILE_KEYS = {"name", "size", "sha256", "count"}


def check_batch_id(batch_id: str) -> str:
    """The batch id if it is safe as a file name (A–Z, 0–9, '-', at most 40); TransportError otherwise."""
    if not _BATCH_ID.match(batch_id):
        raise TransportError("transport_batch_id", batch_id=batch_id)
    return batch_id


class TransportError(PaperlinkError):
    """A delivered batch is incomplete, altered, unsigned, from an unknown key, or malformed."""


@dataclass(frozen=True)
class Manifest:
    """A signed manifest of one batch and its data file."""

    batch_id: str
    created: str
    file_name: str
    size: int
    sha256: str
    count: int
    key_id: str
    signature: str = ""
    tables: str | None = None
    """The version of the code tables that validated the batch (None: a version 1 manifest, which has none)."""

    def unsigned(self) -> dict[str, Any]:
        """The manifest's JSON object without its signature (what is signed)."""
        out = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION if self.tables is not None else 1,
               "batch_id": self.batch_id, "created": self.created,
               "files": [{"name": self.file_name, "size": self.size, "sha256": self.sha256, "count": self.count}],
               "key_id": self.key_id}
        if self.tables is not None:
            out["tables"] = self.tables
        return out

    def to_bytes(self) -> bytes:
        """The manifest file's bytes."""
        return (canonical_json({**self.unsigned(), "signature": self.signature}) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "manifest") -> Manifest:
        """Parse a manifest file; TransportError naming what is wrong."""
        try:
            obj = json.loads(data.decode("utf-8"))
            keys = _KEYS_V1 if isinstance(obj, dict) and obj.get("version") == 1 else _KEYS
            if not isinstance(obj, dict) or set(obj) != keys or not isinstance(obj["files"], list) \
                    or any(not isinstance(f, dict) or set(f) != _FILE_KEYS for f in obj["files"]):
                if isinstance(obj, dict) and obj.get("format") == MANIFEST_FORMAT and obj.get("version") not in (1, 2):
                    raise TransportError("transport_manifest_version", name=name, version=obj.get("version"))
                raise TransportError("transport_manifest_structure", name=name)
            if obj.get("format") != MANIFEST_FORMAT:
                raise TransportError("transport_not_manifest", name=name)
            if obj.get("version") not in (1, MANIFEST_VERSION):
                raise TransportError("transport_manifest_version", name=name, version=obj.get("version"))
            (entry,) = obj["files"]
            values = (obj["batch_id"], obj["created"], entry["name"], entry["size"], entry["sha256"], entry["count"],
                      obj["key_id"], obj["signature"])
            types = (str, str, str, int, str, int, str, str)
            if any(type(v) is not t for v, t in zip(values, types, strict=True)):
                raise TransportError("transport_manifest_types", name=name)
            tables = obj.get("tables")
            if obj["version"] == MANIFEST_VERSION and type(tables) is not str:
                raise TransportError("transport_manifest_types", name=name)
            check_batch_id(obj["batch_id"])
            return cls(*values, tables=tables)
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, RecursionError) as exc:
            if isinstance(exc, TransportError):
                raise
            detail = json_detail(exc) if isinstance(exc, ValueError | RecursionError) else exc
            raise TransportError("transport_manifest_damaged", name=name, detail=detail) from None

    def verify(self, trusted: Mapping[bytes, Ed25519PublicKey], name: str = "manifest") -> None:
        """TransportError unless a trusted key signed exactly this manifest."""
        if not self.signature:
            raise TransportError("transport_unsigned", name=name)
        try:
            public = trusted[bytes.fromhex(self.key_id)]
        except (KeyError, ValueError):
            raise TransportError("transport_unknown_key", name=name, key_id=self.key_id) from None
        try:
            public.verify(base64.b64decode(self.signature, validate=True),
                          canonical_json(self.unsigned()).encode("utf-8"))
        except (InvalidSignature, ValueError):
            raise TransportError("transport_bad_signature", name=name) from None

    def check_data(self, data: bytes, name: str) -> None:
        """TransportError unless `data` is exactly the file the manifest describes."""
        if len(data) != self.size:
            raise TransportError("transport_size", name=name, size=len(data), expected=self.size)
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise TransportError("transport_sha256", name=name)


def sign_manifest(batch_id: str, file_name: str, data: bytes, count: int, private: Ed25519PrivateKey) -> Manifest:
    """The signed manifest of a data file."""
    check_batch_id(batch_id)
    unsigned = Manifest(batch_id, now(), file_name, len(data), hashlib.sha256(data).hexdigest(), count,
                        key_id(private.public_key()).hex(), tables=tables_version())
    signature = private.sign(canonical_json(unsigned.unsigned()).encode("utf-8"))
    return Manifest(**{**unsigned.__dict__, "signature": base64.b64encode(signature).decode("ascii")})


@dataclass(frozen=True)
class ImportResult:
    """What importing a delivered batch did: 'imported' or 'duplicate'."""

    outcome: str
    batch_id: str
    count: int
    held: tuple[tuple[int, Held], ...] = ()
    """(n, hold) of each notice held on import (addressed elsewhere, or not readable as a notice)."""


_METHOD_OF = {Transport.LINE: VerificationMethod.LINE, Transport.MEDIA: VerificationMethod.MEDIA}
"""How a batch delivered by line or media counts as verified (paper never comes this way)."""


def import_batch(ledger: Ledger, manifest: Manifest, notices: Sequence[Notice], transport: Transport | str,
                 actor: str, extra: Callable[[Ledger], None] | None = None,
                 held: Mapping[int, Held] | None = None) -> ImportResult:
    """Import a verified batch in one transaction (see the module docstring). `extra(ledger)` runs inside it.

    `held` maps n to the hold of a record that could not be read as a notice (the notices fill the other
    positions in order). A notice addressed to another municipality than the office's is held with that reason;
    OfficeUnset while the office's municipality is not set up. Every held notice is in the ledger as 保留."""
    from paperlink.office import foreign_hold, require_office

    how = Transport(transport)
    held = dict(held or {})
    office = require_office(ledger)
    if len(notices) + len(held) != manifest.count:
        raise TransportError("transport_count", name=manifest.file_name, count=len(notices) + len(held),
                             expected=manifest.count)
    with ledger.transaction():
        existing = store.batch(ledger, manifest.batch_id)
        if existing is not None:
            if existing.data_sha256 != manifest.sha256:
                raise TransportError("transport_other_data", batch_id=manifest.batch_id)
            ledger.audit(actor, f"{how.value}.duplicate", manifest.batch_id, sha256=manifest.sha256)
            if extra is not None:
                extra(ledger)
            return ImportResult("duplicate", manifest.batch_id, len(notices))
        store.register_batch(ledger, manifest.batch_id, how, len(notices), manifest.key_id, actor, manifest_seen=True,
                             data_sha256=manifest.sha256)
        method = _METHOD_OF[how]
        remaining = iter(notices)
        holds = []
        for seq in range(1, manifest.count + 1):
            if seq in held:
                hold = held[seq]
                store.hold_notice(ledger, manifest.batch_id, seq, hold.code, hold.params, actor, notice_id=hold.notice_id,
                                  raw_record=hold.raw)
                holds.append((seq, hold))
                continue
            notice = next(remaining)
            foreign = foreign_hold(notice, office)
            if foreign is not None:
                store.hold_notice(ledger, manifest.batch_id, seq, foreign.code, foreign.params, actor, record=notice)
                holds.append((seq, foreign))
                continue
            pk = store.add_notice(ledger, manifest.batch_id, seq, NoticeState.CONFIRMED, record=notice, verified=True)
            store.add_verification(ledger, pk, method, f"key:{manifest.key_id}")
        failpoint(f"{how.value}.in-transaction")
        ledger.audit(actor, f"{how.value}.imported", manifest.batch_id, count=manifest.count - len(holds),
                     sha256=manifest.sha256, key_id=manifest.key_id,
                     held=[{"seq": seq, "notice_id": h.notice_id, "code": h.code} for seq, h in holds])
        if extra is not None:
            extra(ledger)
    return ImportResult("imported", manifest.batch_id, manifest.count - len(holds), tuple(holds))


def already_imported(ledger: Ledger, manifest: Manifest) -> bool:
    """Whether the ledger holds this manifest's batch with exactly this data (imported before)."""
    found = store.batch(ledger, manifest.batch_id)
    return found is not None and found.data_sha256 == manifest.sha256
