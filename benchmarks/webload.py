"""Driving the real entry screen over loopback: a tiny HTTP client, a server in a thread, and a load run.

Used by `benchmarks/bench_web.py` (the figures) and `tests/test_load.py` (the bounded test). Traffic goes
to 127.0.0.1 only, in loops bounded by count and time.
"""

from __future__ import annotations

import datetime as dt
import http.client
import io
import json
import re
import statistics
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PASSWORD = "load-test-password"


class Client:
    """One browser session: cookies, the CSRF token, and timings of every request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.timings: list[tuple[str, float, int]] = []

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        head = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        conn.request(method, path, body=body, headers=head)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - start
        conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        self.timings.append((path.split("?")[0], elapsed, response.status))
        return response.status, data, dict(response.headers)

    def get(self, path: str) -> tuple[int, bytes]:
        status, data, _ = self.request("GET", path)
        match = re.search(rb'name="csrf-token" content="([^"]+)"', data)
        if match:
            self.token = match.group(1).decode()
        return status, data

    def post_form(self, path: str, form: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        if not self.token:
            self.get("/login")
        body = urllib.parse.urlencode({**form, "csrf_token": self.token}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def login(self, login: str) -> None:
        self.get("/login")
        status, _, _ = self.post_form("/login", {"login": login, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"login of {login} failed: HTTP {status}")
        self.get("/board")

    def post_frame(self, jpeg: bytes) -> dict[str, Any]:
        status, data, _ = self.request("POST", "/capture/frame", jpeg,
                                       {"Content-Type": "image/jpeg", "X-CSRFToken": self.token})
        if status != 200:
            raise RuntimeError(f"frame: HTTP {status}")
        result: dict[str, Any] = json.loads(data)
        return result


@dataclass
class Office:
    """A data directory with a key, clerks, and a printed batch whose cover is registered."""

    home: Path
    notices: list[Any]
    sheet_texts: list[str]
    frames: list[bytes]
    blank_frames: list[bytes] = field(default_factory=list)


def prepare_office(home: Path, count: int = 12, frames_per_sheet: int = 1) -> Office:
    """Keys, three clerks (entry, entry+review), `count` printed notices, the cover registered, camera frames."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from degrade import locate_code, rasterise, webcam_frame  # type: ignore[import-not-found]
    from PIL import Image

    from paperlink.home import Home
    from paperlink.intake import capture_scans
    from paperlink.keys import KeyStore
    from paperlink.ledger import Ledger
    from paperlink.printing import print_batch
    from paperlink.samples import SampleOptions, generate
    from paperlink.scanning import interpret
    from paperlink.users import add_user

    Home(home).ensure()
    store = KeyStore(Home(home))
    store.init()
    key: Ed25519PrivateKey = store.signing_key()
    notices = generate(SampleOptions(count=count, seed=71, notice_date=dt.date(2026, 11, 26)))
    result = print_batch(notices, key, printed_on=dt.date(2026, 11, 26))
    with Ledger(home / "ledger.sqlite3") as ledger:
        for login, roles in (("clerk-a", {"entry"}), ("clerk-b", {"entry", "review"}), ("camera", {"entry"})):
            add_user(ledger, login, login, roles, PASSWORD, "bench")
        assert result.cover is not None
        capture_scans(ledger, [interpret(t, "cover", 1, store.trusted()) for t in result.cover.manifest_qr_texts],
                     "file", "bench")
    pages = rasterise(result.pdf, 300)
    sheets = pages[len(pages) - count:]
    frames, blanks = [], []
    for index, page in enumerate(sheets):
        box = locate_code(page)
        for k in range(frames_per_sheet):
            buffer = io.BytesIO()
            webcam_frame(page, box, seed=index * 100 + k).convert("RGB").save(buffer, "JPEG", quality=85)
            frames.append(buffer.getvalue())
    for k in range(4):
        buffer = io.BytesIO()
        Image.new("RGB", (1280, 720), (90 + k * 10, 90, 90)).save(buffer, "JPEG", quality=85)
        blanks.append(buffer.getvalue())
    return Office(home, notices, [s.qr_texts[0] for s in result.sheets], frames, blanks)


@contextmanager
def running_server(home: Path) -> Iterator[int]:
    """The entry screen on 127.0.0.1 and a free port, in a background thread."""
    import logging

    from werkzeug.serving import make_server

    from paperlink.web import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the figures

    app = create_app({"HOME": str(home)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


@dataclass
class LoadResult:
    """What a load run saw."""

    seconds: float
    requests: int
    errors: list[str]
    frame_times: list[float]
    clerk_times: list[float]
    notices: int
    confirmed: int
    duplicates_in_ledger: int

    def p(self, values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    def summary(self) -> str:
        every = self.frame_times + self.clerk_times
        return (f"{self.seconds:.0f} s, {self.requests} requests, {len(self.errors)} errors; "
                f"camera frames {len(self.frame_times)}: median {statistics.median(self.frame_times) * 1000:.0f} ms, "
                f"p95 {self.p(self.frame_times, 0.95):.0f} ms; clerk requests {len(self.clerk_times)}: "
                f"p95 {self.p(self.clerk_times, 0.95):.0f} ms; all requests p95 {self.p(every, 0.95):.0f} ms; "
                f"notices read {self.notices}, confirmed {self.confirmed}, duplicated {self.duplicates_in_ledger}")


def load_run(office: Office, seconds: float, fps: float = 10.0) -> LoadResult:
    """Two clerks working the board, handheld scanner and confirm screens while a camera streams frames."""
    from paperlink.ledger import Ledger, views

    errors: list[str] = []
    stop = time.monotonic() + seconds
    with running_server(office.home) as port:
        camera, clerk_a, clerk_b = Client(port), Client(port), Client(port)
        camera.login("camera")
        clerk_a.login("clerk-a")
        clerk_b.login("clerk-b")
        start = time.monotonic()

        def stream() -> None:
            n = 0
            while time.monotonic() < stop:
                tick = time.monotonic()
                frames = office.frames if n % 3 else office.blank_frames
                try:
                    camera.post_frame(frames[n % len(frames)])
                except (RuntimeError, OSError) as exc:
                    errors.append(f"camera: {exc}")
                n += 1
                time.sleep(max(0.0, 1 / fps - (time.monotonic() - tick)))

        def clerk(client: Client, offset: int) -> None:
            n = offset
            while time.monotonic() < stop:
                try:
                    text = office.sheet_texts[n % len(office.sheet_texts)]
                    status, _, _ = client.post_form("/capture/wedge", {"code": text})
                    if status not in (200, 302):
                        errors.append(f"wedge HTTP {status}")
                    status, page = client.get("/board")
                    if status != 200:
                        errors.append(f"board HTTP {status}")
                    for row_id in re.findall('href="/notice/(\\d+)"[^>]*>確認する'.encode(), page)[:1]:
                        client.get(f"/notice/{row_id.decode()}")
                        status, _, _ = client.post_form(f"/notice/{row_id.decode()}/confirm", {})
                        if status not in (200, 302, 400, 409):
                            errors.append(f"confirm HTTP {status}")
                except OSError as exc:
                    errors.append(f"clerk: {exc}")
                n += 1
                time.sleep(0.2)

        threads = [threading.Thread(target=stream), threading.Thread(target=clerk, args=(clerk_a, 0)),
                   threading.Thread(target=clerk, args=(clerk_b, 5))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
    for client in (camera, clerk_a, clerk_b):
        errors += [f"{path}: HTTP {status}" for path, _, status in client.timings if status >= 500]
    with Ledger(office.home / "ledger.sqlite3") as ledger:
        tally = views.notice_tally(ledger)
        read, confirmed, dupes = tally.read, tally.confirmed, tally.doubled_positions
    frame_times = [t for path, t, _ in camera.timings if path == "/capture/frame"]
    clerk_times = [t for c in (clerk_a, clerk_b) for _, t, _ in c.timings]
    total = sum(len(c.timings) for c in (camera, clerk_a, clerk_b))
    return LoadResult(elapsed, total, errors, frame_times, clerk_times, read, confirmed, dupes)


def frame_latency(office: Office, repeat: int = 3) -> tuple[list[float], list[float]]:
    """Server time from a posted 1280×720 frame to the decoded record (frames with a code; blank frames)."""
    with running_server(office.home) as port:
        client = Client(port)
        client.login("camera")
        with_code: list[float] = []
        blank: list[float] = []
        for _ in range(repeat):
            for jpeg in office.frames:
                start = time.perf_counter()
                client.post_frame(jpeg)
                with_code.append(time.perf_counter() - start)
            for jpeg in office.blank_frames:
                start = time.perf_counter()
                client.post_frame(jpeg)
                blank.append(time.perf_counter() - start)
    return with_code, blank


def public_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PEM of a public key (helper for callers that trust a key)."""
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
