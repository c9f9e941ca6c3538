"""The print side's Ed25519 key pair and the entry side's trusted public keys, in the data directory.

    keys/signing-key.pem        private key (PKCS#8 PEM, owner read/write only) – never leaves the PC
    keys/signing-key.pub.pem    its public key
    keys/trusted/<id>.pub.pem   public keys trusted by the entry side (its own is trusted implicitly)
    keys/audit-key              the HMAC key of the audit log's anchors (owner read/write only; not in the ledger)
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from paperlink.atomicfile import atomic_write_bytes
from paperlink.errors import PaperlinkError
from paperlink.home import Home
from paperlink.safefs import read_regular


class KeyMissing(PaperlinkError):
    """There is no signing key in the data directory yet."""


class KeyExists(PaperlinkError):
    """A signing key exists already and is never overwritten."""


class KeyFileInvalid(PaperlinkError):
    """A key file cannot be read or is not an Ed25519 key."""


def raw_public(public: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> bytes:
    """Four bytes naming a public key inside payloads (the start of its SHA-256)."""
    return hashlib.sha256(raw_public(public)).digest()[:4]


def fingerprint(public: Ed25519PublicKey) -> str:
    """What people compare by eye: 40 hex digits of the key's SHA-256 in groups of four."""
    digest = hashlib.sha256(raw_public(public)).hexdigest().upper()[:40]
    return " ".join(digest[i:i + 4] for i in range(0, 40, 4))


def _public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file; KeyFileInvalid otherwise."""
    try:
        key = serialization.load_pem_public_key(read_regular(path, 64 * 1024))  # never a FIFO or /dev/zero
    except OSError as exc:
        raise KeyFileInvalid("key_file_unreadable", path=path, detail=exc.strerror or exc) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileInvalid("key_not_pem_public", path=path) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileInvalid("key_not_ed25519_public", path=path)
    return key


class KeyStore:
    """The keys of one data directory."""

    def __init__(self, home: Home) -> None:
        self.dir = home.keys
        self.signing_path = self.dir / "signing-key.pem"
        self.public_path = self.dir / "signing-key.pub.pem"
        self.trusted_dir = self.dir / "trusted"
        self.audit_key_path = self.dir / "audit-key"

    def init(self) -> Ed25519PublicKey:
        """Create the print side's key pair; KeyExists if there is one."""
        if self.signing_path.exists():
            raise KeyExists("key_exists", path=self.signing_path)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        atomic_write_bytes(self.signing_path, pem, mode=0o600)
        atomic_write_bytes(self.public_path, _public_pem(private.public_key()), mode=0o644)
        return private.public_key()

    def has_signing_key(self) -> bool:
        """Whether `init` has been run here."""
        return self.signing_path.exists()

    def signing_key(self) -> Ed25519PrivateKey:
        """The private key; KeyMissing or KeyFileInvalid with the path and what to do."""
        if not self.signing_path.exists():
            raise KeyMissing("key_missing", dir=self.dir)
        try:
            key = serialization.load_pem_private_key(self.signing_path.read_bytes(), password=None)
        except OSError as exc:
            raise KeyFileInvalid("key_signing_unreadable", path=self.signing_path, detail=exc.strerror or exc) from None
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise KeyFileInvalid("key_not_pem_private", path=self.signing_path) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileInvalid("key_not_ed25519", path=self.signing_path)
        return key

    def export(self, path: str | os.PathLike[str]) -> str:
        """Write the public key to `path`; return its fingerprint."""
        public = self.signing_key().public_key()
        atomic_write_bytes(path, _public_pem(public), mode=0o644)
        return fingerprint(public)

    def trust(self, path: str | os.PathLike[str]) -> str:
        """Trust the public key in `path` (exported by a print side); return its fingerprint."""
        public = load_public(Path(path))
        self.trusted_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_bytes(self.trusted_dir / f"{key_id(public).hex()}.pub.pem", _public_pem(public), mode=0o644)
        return fingerprint(public)

    def trusted(self) -> dict[bytes, Ed25519PublicKey]:
        """Every trusted public key by key id: the trusted folder plus this PC's own signing key."""
        keys: dict[bytes, Ed25519PublicKey] = {}
        if self.trusted_dir.is_dir():
            for path in sorted(self.trusted_dir.glob("*.pub.pem")):
                public = load_public(path)
                keys[key_id(public)] = public
        if self.public_path.exists():
            public = load_public(self.public_path)
            keys[key_id(public)] = public
        return keys

    def audit_key(self, create: bool = True) -> bytes | None:
        """The audit log's anchor key (32 random bytes, made once, owner-only); None if absent and not `create`."""
        try:
            return bytes.fromhex(self.audit_key_path.read_text("ascii").strip())
        except FileNotFoundError:
            if not create:
                return None
        except (OSError, ValueError) as exc:
            raise KeyFileInvalid("key_audit_unreadable", path=self.audit_key_path, detail=exc) from None
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(self.audit_key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
        except FileExistsError:  # another process made it a moment ago
            return self.audit_key(create=False)
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key.hex() + "\n")
            out.flush()
            os.fsync(out.fileno())
        return key
