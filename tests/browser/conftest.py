"""Fixtures of the browser tests: a printed batch with its data file, a fake camera's video of one of its
sheets, a scanned PDF of others, the real entry screen served on 127.0.0.1, and headless Chromium.

The server is the app of `paperlink.web.create_app` over a temp data directory (the batch's key pair and
four clerks), served by werkzeug's `make_server` on a free port in a thread. Chromium is Debian's
(/usr/bin/chromium), driven by Playwright's sync API; its fake capture device plays a Y4M video in which a
rendered sheet's QR code fills about a third of the frame height. Every test of this folder is skipped
(with the reason) only when /usr/bin/chromium is missing.

Screenshots go to $PAPERLINK_SCREENSHOTS, or else `<pytest basetemp>/screenshots`; the folder is printed
in the test summary.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.dataformat import read_notices, write_notices
from paperlink.ledger import Ledger
from paperlink.notice import Notice
from paperlink.printing import PrintResult, print_batch
from paperlink.samples import SampleOptions, generate
from paperlink.users import add_user

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
HERE = Path(__file__).resolve().parent
PASSWORD = "correct-horse-1"
CLERKS = {"aoki": ("青木", {"entry"}), "baba": ("馬場", {"entry"}), "miru": ("審査担当", {"review"})}

FRAME_W, FRAME_H = 1280, 720
FRAMES = 6
_SCREENSHOT_DIR = pytest.StashKey[Path]()

BEEP_HOOK = """
(() => {
  // the entry screen beeps with an OscillatorNode when a sheet is read: report each start on the console
  if (typeof OscillatorNode === "undefined") { return; }
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    console.log("paperlink-beep " + this.frequency.value);
    return start.apply(this, args);
  };
})();
"""


# -- marking, the screenshot folder and the summary ------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: real headless Chromium against the real entry screen")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this folder's tests `browser`; skip them (saying why) only when Debian's Chromium is missing."""
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (install Debian's chromium to run the browser tests)")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    folder = config.stash.get(_SCREENSHOT_DIR, None)
    if folder is not None:
        shots = sorted(p.name for p in folder.glob("*.png"))
        terminalreporter.write_sep("-", "browser test screenshots")
        terminalreporter.write_line(f"{len(shots)} screenshots in {folder}")


@pytest.fixture(scope="session")
def screenshot_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$PAPERLINK_SCREENSHOTS, else <basetemp>/screenshots (created; named in the test summary)."""
    configured = os.environ.get("PAPERLINK_SCREENSHOTS")
    folder = Path(configured) if configured else tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[_SCREENSHOT_DIR] = folder
    print(f"browser test screenshots: {folder}")
    return folder


# -- the paper: a data file, printed; a camera video; a scanned PDF --------------------------------


@dataclass(frozen=True)
class Paper:
    """A small batch as the print side made it: the data file, what was printed, the key, the pages."""

    data_file: Path
    notices: list[Notice]
    result: PrintResult
    key: Ed25519PrivateKey
    pdf_path: Path

    def page(self, index: int, dpi: float) -> Any:
        """PDF page `index` (0 = cover) rendered as a grayscale PIL image."""
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(self.result.pdf)
        try:
            return document[index].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        finally:
            document.close()


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Paper:
    """Three notices written to a data file, read back and printed (a cover page, then one sheet each)."""
    folder = tmp_path_factory.mktemp("paper")
    data_file = folder / "notices.jsonl"
    write_notices(generate(SampleOptions(count=3, seed=11, notice_date=dt.date(2026, 11, 26))), data_file)
    notices = read_notices(data_file)
    key = Ed25519PrivateKey.generate()
    result = print_batch(notices, key, printed_on=dt.date(2026, 11, 26))
    pdf_path = folder / "batch.pdf"
    pdf_path.write_bytes(result.pdf)
    return Paper(data_file, notices, result, key, pdf_path)


def camera_frames(paper: Paper, sheet_page: int, count: int = FRAMES) -> list[Any]:
    """1280×720 frames of a sheet held under a camera: the sheet on a dark desk, its QR code about a third of
    the frame height, drifting a few pixels from frame to frame."""
    from PIL import Image

    from paperlink.decode import decode

    probe = paper.page(sheet_page, 100)
    codes = decode(probe, 1)
    assert codes and codes[0].position, "the printed sheet's QR code was not found"
    x, y, w, h = codes[0].position
    dpi = 100 * (FRAME_H / 3) / h  # the QR code's side becomes a third of the frame height
    sheet = paper.page(sheet_page, dpi)
    scale = dpi / 100
    centre_x, centre_y = (x + w / 2) * scale, (y + h / 2) * scale
    frames = []
    for index in range(count):
        frame = Image.new("L", (FRAME_W, FRAME_H), 70)
        frame.paste(sheet, (round(FRAME_W * 0.4 - centre_x) + 3 * index, round(FRAME_H / 2 - centre_y) + 2 * index))
        frames.append(frame)
    return frames


def write_y4m(frames: list[Any], path: Path) -> Path:
    """A Y4M video Chromium's fake capture device plays in a loop (4:2:0, gray: U = V = 128)."""
    width, height = frames[0].size
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for frame in frames:
            out.write(b"FRAME\n")
            out.write(frame.tobytes())
            out.write(chroma)
            out.write(chroma)
    return path


@pytest.fixture(scope="module")
def camera_video(paper: Paper, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake camera's video: sheet 1/3 (PDF page 2)."""
    return write_y4m(camera_frames(paper, 1), tmp_path_factory.mktemp("camera") / "sheet-1.y4m")


def scanned_pdf(paper: Paper, pages: list[int], path: Path, dpi: int = 200) -> Path:
    """An image-only PDF as a scanner makes it: the pages rasterised, a little skewed, saved by Pillow."""
    images = [paper.page(index, dpi).rotate(0.6 if n % 2 else -0.4, fillcolor=255, expand=True)
              for n, index in enumerate(pages)]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return path


# -- the server ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """The running entry screen."""

    url: str
    home: Path

    def ledger(self) -> Ledger:
        return Ledger(self.home / "ledger.sqlite3")


@pytest.fixture(scope="module")
def server(paper: Paper, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """create_app over a fresh data directory (the batch's key pair, three clerks), on 127.0.0.1:<free port>."""
    from werkzeug.serving import make_server

    from paperlink.web import create_app

    home = tmp_path_factory.mktemp("home")
    keys = home / "keys"
    keys.mkdir(mode=0o700)
    (keys / "signing-key.pem").write_bytes(paper.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (keys / "signing-key.pub.pem").write_bytes(paper.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with Ledger(home / "ledger.sqlite3") as ledger:
        for login, (name, roles) in CLERKS.items():
            add_user(ledger, login, name, roles, PASSWORD, actor="test")
    app = create_app({"HOME": str(home)})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="paperlink-test-server", daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_port}", home)
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


# -- the browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(camera_video: Path) -> Iterator[Any]:
    """Headless Debian Chromium whose (auto-granted) camera plays `camera_video`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-video-capture={camera_video}", "--autoplay-policy=no-user-gesture-required"])
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Session:
    """One browser context (one clerk's browser) and its page; `beeps` lists the beeps the page played."""

    context: Any
    page: Any
    beeps: list[str]


@pytest.fixture
def open_session(browser: Any, server: Server) -> Iterator[Callable[[], Session]]:
    """open_session(): a fresh context (camera allowed, Japanese locale) with one page; closed after the test."""
    opened: list[Session] = []

    def open_one() -> Session:
        context = browser.new_context(base_url=server.url, locale="ja-JP", viewport={"width": 1280, "height": 900},
                                      permissions=["camera"], accept_downloads=True)
        context.set_default_timeout(15_000)
        context.add_init_script(BEEP_HOOK)
        page = context.new_page()
        session = Session(context, page, [])
        page.on("console", lambda message: session.beeps.append(message.text)
                if message.text.startswith("paperlink-beep") else None)
        opened.append(session)
        return session

    yield open_one
    for session in opened:
        session.context.close()


@pytest.fixture
def shot(screenshot_dir: Path) -> Callable[[Any, str], Path]:
    """shot(page, "01-login"): a full-page screenshot, 01-login.png, in the screenshot folder."""

    def take(page: Any, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

