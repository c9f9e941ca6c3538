"""A real, throwaway PostgreSQL server for the tests (and the desks benchmark).

`PgServer()` runs Debian's `postgresql` package (`/usr/lib/postgresql/<version>/bin/initdb`, `pg_ctl`) in a new
temporary directory: a cluster made by initdb, listening on a Unix socket in that directory and on 127.0.0.1 (a
free port) with TLS – a throwaway CA and a server certificate for 127.0.0.1/localhost made with `cryptography`.
The server never runs as root: when the tests run as root (CI), the directory is handed to the `postgres` user
(made by the package) and every server command runs through `runuser -u postgres --`.

    with PgServer() as server:
        url = server.fresh_database()        # postgresql://postgres@/db_1?host=<socket dir>  (a new empty database)
        tcp = server.tcp_url("db_1")         # postgresql://paperlink@127.0.0.1:<port>/db_1?sslmode=verify-full&…

Authentication: the Unix socket trusts its local users (`postgres`); TCP takes the role `paperlink` with a
password, which the server's clients find in `server.pgpass` (PGPASSFILE). pg_hba accepts TCP with and without
TLS, so that a test proves it is the client that refuses a connection without TLS.

Stop it with `stop()` (or leave the `with`): the server is stopped and its directory removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import ipaddress
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from pathlib import Path
from types import TracebackType
from typing import Any

PASSWORD_ROLE = "paperlink"
"""The role TCP connections log in as (with a password from `pgpass`)."""


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory (None when the `postgresql` package is not installed)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def available() -> bool:
    """Whether a server can be started here (Debian's postgresql installed; not Windows)."""
    return os.name == "posix" and binaries() is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost: (ca.crt, server.crt, server.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    end = start + dt.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "paperlink test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = directory / "ca.crt", directory / "server.crt", directory / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return ca_path, cert_path, key_path


class PgServer:
    """One running PostgreSQL cluster in a temporary directory (see the module docstring)."""

    def __init__(self) -> None:
        bindir = binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="paperlink-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.port = _free_port()
        self.password = secrets.token_urlsafe(18)
        self._counter = itertools.count(1)
        self._as: list[str] = []
        self._owner: Any = None  # pwd.struct_passwd (pwd is POSIX-only)
        if os.geteuid() == 0:  # a server refuses to run as root: run it as the package's `postgres` user
            import pwd

            self._owner = pwd.getpwnam("postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self.ca, cert, key = _certificates(self.root)
        self.pgpass = self.root / "pgpass"
        self.pgpass.write_text(f"127.0.0.1:{self.port}:*:{PASSWORD_ROLE}:{self.password}\n"
                               f"localhost:{self.port}:*:{PASSWORD_ROLE}:{self.password}\n", encoding="utf-8")
        self.pgpass.chmod(0o600)
        pwfile = self.root / "pwfile"
        pwfile.write_text(secrets.token_urlsafe(18) + "\n", encoding="utf-8")
        if self._owner is not None:
            for path in (self.root, cert, key, pwfile):
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        self.root.chmod(0o755)  # the socket and the CA certificate are reached through it; data/ itself is 0700
        self.ca.chmod(0o644)
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C",
                      "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}")
            with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                           f"unix_socket_directories = '{self.socket_dir}'\n"
                           f"ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\n"
                           "max_connections = 200\nfsync = off\nfull_page_writes = off\n"
                           "synchronous_commit = off\nshared_buffers = 32MB\n")
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")
            self._admin(f"CREATE ROLE {PASSWORD_ROLE} LOGIN CREATEDB PASSWORD '{self.password}'")
        except BaseException:
            self.stop()
            raise

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run([*self._as, str(self.bindir / program), *args], capture_output=True,
                                encoding="utf-8", errors="replace", cwd=self.root, check=False)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip()}\n{tail}")

    def _admin(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres", dbname=database,
                             autocommit=True) as conn:
            conn.execute(sql.encode("utf-8"))

    # -- what the tests use ---------------------------------------------------------------------

    def socket_url(self, database: str) -> str:
        """A URL of `database` over the Unix socket (no TLS needed; trusted local user `postgres`)."""
        host = urllib.parse.quote(str(self.socket_dir), safe="")
        return f"postgresql://postgres@{host}:{self.port}/{database}"

    def tcp_url(self, database: str, **params: str) -> str:
        """A URL of `database` over TCP as the role `paperlink`, TLS verified against the test CA by default."""
        query = {"sslmode": "verify-full", "sslrootcert": str(self.ca), **params}
        return f"postgresql://{PASSWORD_ROLE}@127.0.0.1:{self.port}/{database}?{urllib.parse.urlencode(query)}"

    def fresh_database(self, template: str | None = None) -> str:
        """A new empty database (owned by `paperlink`), as a Unix-socket URL; or a copy of the database `template`
        (a URL or a name; nobody may be connected to it)."""
        name = f"db_{next(self._counter)}"
        copy = f" TEMPLATE {template.rsplit('/', 1)[-1].split('?', 1)[0]}" if template else ""
        self._admin(f"CREATE DATABASE {name} OWNER {PASSWORD_ROLE}{copy} STRATEGY FILE_COPY")
        return self.socket_url(name)

    def drop_database(self, url_or_name: str) -> None:
        """Drop a database made by `fresh_database` (connections still open to it are ended first)."""
        name = url_or_name.rsplit("/", 1)[-1].split("?", 1)[0]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and remove its directory."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
