"""Pattern 2: one encrypted, signed file that carries a batch on USB media.

    PLBUNDLE1\\n
    {"version":1,"kdf":"scrypt","n":32768,"r":8,"p":1,"salt":"…","nonce":"…"}\\n
    <AES-256-GCM ciphertext of {"manifest": <signed manifest>, "data": "<the data file>"}>

The key comes from a passphrase agreed between the two offices (at least 12 characters, scrypt with a
random salt); AES-256-GCM authenticates the ciphertext and, as associated data, the header, so a wrong
passphrase, a changed byte anywhere or a truncated file is one clear error and nothing is decrypted. Inside,
the batch carries the same signed manifest as the shared folder, so origin is proven by the sender's
Ed25519 key and the import is the same. Decryption happens in memory only: nothing decrypted ever touches
the disk, and the bundle is written atomically (a stick pulled out mid-copy leaves no half bundle under
the final name). Each bundle written or read is entered in the media register with who and when.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from paperlink.atomicfile import atomic_write_bytes
from paperlink.datafile import json_detail
from paperlink.dataformat import dumps_notices
from paperlink.errors import DataFileError
from paperlink.holding import Held, HeldRead, by_position, held_list, parse_holding
from paperlink.ledger import Ledger, Transport
from paperlink.ledger.registers import add_media_record, media_records
from paperlink.ledger.schema import MediaDirection
from paperlink.notice import Notice
from paperlink.safefs import read_regular
from paperlink.transport import ImportResult, Manifest, TransportError, check_batch_id, import_batch, sign_manifest

MAGIC = b"PLBUNDLE1\n"
MIN_PASSPHRASE = 12
MAX_BUNDLE_BYTES = 768 * 1024 * 1024
"""The largest bundle read (a data file at its limit, as JSON in the ciphertext); larger is refused unread."""
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


class BundleError(TransportError):
    """A bundle cannot be opened: wrong passphrase, altered or truncated file, or not a bundle."""


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=128 * 1024 * 1024)


def check_passphrase(passphrase: str) -> None:
    """BundleError unless the passphrase is long enough."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise BundleError("bundle_passphrase_short", min=MIN_PASSPHRASE)


def seal(notices: Sequence[Notice], batch_id: str, private: Ed25519PrivateKey, passphrase: str) -> tuple[bytes, Manifest]:
    """The bundle's bytes for a batch, and its manifest."""
    check_passphrase(passphrase)
    check_batch_id(batch_id)
    data = dumps_notices(notices)
    manifest = sign_manifest(batch_id, f"{batch_id}.jsonl", data, len(notices), private)
    return encrypt({"manifest": json.loads(manifest.to_bytes()), "data": data.decode("utf-8")}, passphrase), manifest


def encrypt(content: dict[str, object], passphrase: str) -> bytes:
    """A bundle holding `content` (a JSON object), encrypted with the passphrase (see the module docstring)."""
    check_passphrase(passphrase)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = json.dumps({"version": 1, "kdf": "scrypt", **_SCRYPT, "salt": base64.b64encode(salt).decode(),
                         "nonce": base64.b64encode(nonce).decode()}, separators=(",", ":")).encode() + b"\n"
    plaintext = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    ciphertext = AESGCM(_key(passphrase, salt, **_SCRYPT)).encrypt(nonce, plaintext, MAGIC + header)
    return MAGIC + header + ciphertext


def open_bundle(blob: bytes, passphrase: str, trusted: Mapping[bytes, Ed25519PublicKey],
                name: str = "bundle") -> tuple[Manifest, HeldRead]:
    """Decrypt (in memory), verify and validate a bundle; BundleError / TransportError / DataFileError otherwise.

    A record that fails validation is held (in the HeldRead), not a reason to refuse the bundle."""
    content = decrypt(blob, passphrase, name)
    try:
        manifest = Manifest.from_bytes(json.dumps(content["manifest"]).encode(), f"{name} (manifest)")
        data = str(content["data"]).encode("utf-8")
    except (KeyError, TypeError) as exc:
        raise BundleError("bundle_content", name=name, detail=exc) from None
    manifest.verify(trusted, f"{name} (manifest)")
    manifest.check_data(data, f"{name} (data)")
    return manifest, parse_holding(data, f"{name}:{manifest.file_name}")


def decrypt(blob: bytes, passphrase: str, name: str = "bundle") -> dict[str, object]:
    """The JSON object a bundle holds; BundleError when it cannot be opened."""
    if not blob.startswith(MAGIC):
        raise BundleError("bundle_empty" if not blob else "bundle_not_bundle", name=name)
    head_end = blob.find(b"\n", len(MAGIC))
    if head_end < 0:
        raise BundleError("bundle_no_header", name=name)
    header_bytes = blob[len(MAGIC):head_end + 1]
    try:
        header = json.loads(header_bytes)
        if not isinstance(header, dict):
            raise BundleError("bundle_header_not_object", name=name)
        if header.get("version") != 1:
            raise BundleError("bundle_version", name=name, version=header.get("version"))
        if header.get("kdf") != "scrypt":
            raise BundleError("bundle_kdf", name=name, kdf=repr(header.get("kdf")))
        salt, nonce = base64.b64decode(header["salt"]), base64.b64decode(header["nonce"])
        n, r, p = int(header["n"]), int(header["r"]), int(header["p"])
        if n > 2**16 or r > 8 or p > 4 or n < 2:  # within the 128 MiB the derivation may use
            raise BundleError("bundle_kdf_range", name=name)
    except (KeyError, TypeError) as exc:
        raise BundleError("bundle_header_damaged", name=name, detail=exc) from None
    except (ValueError, RecursionError) as exc:  # JSON syntax, too deep, a number beyond 4300 digits, base64
        raise BundleError("bundle_header_damaged", name=name, detail=json_detail(exc)) from None
    try:
        plaintext = AESGCM(_key(passphrase, salt, n, r, p)).decrypt(nonce, blob[head_end + 1:], MAGIC + header_bytes)
    except (InvalidTag, ValueError):
        raise BundleError("bundle_cannot_open", name=name) from None
    try:
        content = json.loads(plaintext)
    except (ValueError, RecursionError) as exc:  # JSON syntax, too deep, a number beyond 4300 digits
        raise BundleError("bundle_content", name=name, detail=json_detail(exc)) from None
    if not isinstance(content, dict):
        raise BundleError("bundle_content", name=name, detail="not an object")
    return content


@dataclass(frozen=True)
class BundleRecord:
    """One line of the media register."""

    batch_id: str
    direction: str
    bundle_name: str
    count: int
    clerk: str
    at: str


def write_bundle(ledger: Ledger, notices: Sequence[Notice], path: str | os.PathLike[str], batch_id: str,
                 private: Ed25519PrivateKey, passphrase: str, clerk: str, held: Sequence[Held] = ()) -> Manifest:
    """Seal a batch into `path` (atomically), enter it in the media register and the outbox (with the notices
    `held` back), in one transaction with its audit entry."""
    from paperlink.outbox import record_rows

    blob, manifest = seal(notices, batch_id, private, passphrase)
    target = Path(path)
    atomic_write_bytes(target, blob)
    with ledger.transaction():
        _register(ledger, manifest.batch_id, MediaDirection.OUT, target.name, blob, len(notices), clerk)
        record_rows(ledger, manifest.batch_id, Transport.MEDIA, notices, held, clerk)
        ledger.audit(clerk, "media.written", manifest.batch_id, bundle=target.name, count=len(notices),
                     sha256=manifest.sha256, held=held_list(held))
    return manifest


def read_bundle(ledger: Ledger, path: str | os.PathLike[str], passphrase: str,
                trusted: Mapping[bytes, Ed25519PublicKey], clerk: str) -> ImportResult:
    """Open a bundle and import its batch exactly once (the media register entry in the same transaction)."""
    source = Path(path)
    try:
        blob = read_regular(source, MAX_BUNDLE_BYTES)
    except OSError as exc:
        raise BundleError("bundle_unreadable", name=source, detail=exc.strerror or exc) from None
    try:
        manifest, read = open_bundle(blob, passphrase, trusted, source.name)
    except DataFileError as exc:
        raise BundleError("bundle_data_invalid", detail="; ".join(str(p) for p in exc.problems[:20])) from None
    return import_batch(ledger, manifest, read.notices, Transport.MEDIA, clerk,
                        extra=lambda led: _register(led, manifest.batch_id, MediaDirection.IN, source.name, blob,
                                                    manifest.count, clerk), held=by_position(read))


def _register(ledger: Ledger, batch_id: str, direction: MediaDirection, name: str, blob: bytes, count: int,
              clerk: str) -> None:
    add_media_record(ledger, batch_id, direction, name, hashlib.sha256(blob).hexdigest(), count, clerk)


def media_register(ledger: Ledger) -> list[BundleRecord]:
    """Every bundle written or read on this PC, oldest first."""
    return [BundleRecord(r.batch_id, r.direction.value, r.bundle_name, r.count, r.clerk, r.at)
            for r in media_records(ledger)]
