"""The `paperlink` command line: thin click wrappers over the core.

Each command parses its options, calls the core and turns the core's errors into messages; no rule of
the notice format lives here.
"""

from __future__ import annotations

import datetime as dt
import errno
import getpass
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from paperlink import __version__
from paperlink.csvformat import ENCODINGS, write_csv
from paperlink.dataformat import read_notices, validate_file, write_notices
from paperlink.dates import DateParseError, japan_time, parse_date
from paperlink.errors import DataFileError, PaperlinkError
from paperlink.fields import FieldProblem, norm_municipality
from paperlink.home import ENV_VAR, LEDGER_ENV_VAR, Home
from paperlink.keys import KeyStore, fingerprint
from paperlink.samples import SampleOptions, generate
from paperlink.scanning import ScanItem


class Context:
    """What every command gets: the data directory."""

    def __init__(self, home: Home) -> None:
        self.home = home


pass_context = click.make_pass_decorator(Context)


def _date_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except DateParseError:
        raise click.BadParameter(f"'{value}' is not a date (use 2026-11-26 or R8.11.26)") from None


def _municipality_option(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        return norm_municipality(value)
    except FieldProblem as exc:
        from paperlink.errors import field_error

        raise click.BadParameter(field_error("municipality_code", exc.code, **exc.params).message) from None


# -- the one place where the core's errors become command-line messages -----------------------------

_TARGETS = "paperlink.targets"
"""ctx.meta key (shared by nested contexts): what the running command writes, to name it in an OSError."""

OUTPUT_OPTIONS = {"--output": "file", "--to": "folder"}
"""The options that name what a command writes: a file (written atomically, via a temporary twin) or a folder."""


class CoreErrorCommand(click.Command):
    """A command that leaves what it writes in ctx.meta, so that CoreErrorGroup can tell a write from a read."""

    def invoke(self, ctx: click.Context) -> Any:
        ctx.meta[_TARGETS] = [(OUTPUT_OPTIONS[opt], ctx.params[param.name]) for param in self.params
                              for opt in param.opts if opt in OUTPUT_OPTIONS and param.name
                              and isinstance(ctx.params.get(param.name), Path)]
        return super().invoke(ctx)


def _os_error_message(exc: OSError, targets: list[tuple[str, Path]]) -> str:
    """`cannot write OUTPUT: why` for the command's output (or its temporary twin), `cannot write into FOLDER: why`
    for a file in its output folder, `cannot read FILE: why` for anything else."""
    why = exc.strerror or str(exc)
    if not exc.filename:
        outputs = [target for kind, target in targets if kind == "file"]
        return f"cannot write {outputs[0]}: {why}" if len(outputs) == 1 else why
    failed = Path(exc.filename).absolute()
    for kind, target in targets:
        where = target.absolute()
        if kind == "file" and failed.parent == where.parent and (failed.name == where.name
                                                                 or failed.name.startswith(f".{where.name}.")):
            return f"cannot write {target}: {why}"
        if kind == "folder" and failed.is_relative_to(where):
            return f"cannot write into {target}: {why}"
    return f"cannot read {exc.filename}: {why}"


class CoreErrorGroup(click.Group):
    """A group whose commands report the core's errors as one English line each, never as a traceback.

    PaperlinkError → its English message; DataFileError → every problem on stderr, then a summary; OSError →
    which file could not be read or written, and why. Exit status 1 (click.ClickException).
    """

    command_class = CoreErrorCommand
    group_class = type  # subgroups (keys, users, audit) are CoreErrorGroups too

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from paperlink.console import make_streams_safe

        make_streams_safe()  # a cp932 pipe on Windows: degrade characters, never crash on them
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DataFileError as exc:
            if not exc.problems:
                raise click.ClickException(exc.message("en")) from None
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(f"{exc.problems[0].path}: {len(exc.problems)} problem(s); "
                                       "nothing was written") from None
        except PaperlinkError as exc:
            raise click.ClickException(exc.message("en")) from None
        except UnicodeDecodeError as exc:
            raise click.ClickException(f"the input is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} "
                                       f"at offset {exc.start})") from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click's main() ends quietly when the reader of stdout went away
            raise click.ClickException(_os_error_message(exc, ctx.meta.get(_TARGETS, []))) from None


@click.group(cls=CoreErrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paperlink")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar=ENV_VAR,
              help=f"Data directory holding all state (default: ${ENV_VAR} or a per-user folder).")
@click.option("--ledger", "ledger_url", metavar="URL",
              help=f"The ledger on a PostgreSQL server, postgresql://USER@HOST/DB (default: ${LEDGER_ENV_VAR}, "
                   "else the SQLite file in the data directory). TLS is required over the network; the password "
                   "comes from ~/.pgpass, never from the URL.")
@click.pass_context
def main(ctx: click.Context, home: Path | None, ledger_url: str | None) -> None:
    """paperlink – MOJ notices about foreign residents, by line, media or paper, into the resident register.

    \b
    Example:
      paperlink samples --count 20 -o notices.jsonl
      paperlink validate notices.jsonl
    """
    ctx.obj = Context(Home.resolve(home, ledger_url))


@main.command()
@click.option("--count", "-n", type=click.IntRange(1, 100_000), default=20, show_default=True,
              help="How many notices.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same notices.")
@click.option("--date", "date", callback=_date_option, help="Notice date (西暦 or 和暦; default: today).")
@click.option("--municipality", default="131016", show_default=True, callback=_municipality_option,
              help="全国地方公共団体コード of the receiving municipality.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file: .jsonl (the data format) or .csv (UTF-8 with BOM).")
def samples(count: int, seed: int, date: dt.date | None, municipality: str, output: Path) -> None:
    """Write realistic synthetic notices (every event and category, all invented people).

    \b
    Example:
      paperlink samples --count 1000 --seed 1 --date 2026-11-26 -o samples/notices.jsonl
    """
    options = SampleOptions(count=count, seed=seed, notice_date=date or dt.date.today(),
                            municipality_code=municipality)
    notices = generate(options)
    _write(notices, output, "utf-8-sig")
    click.echo(f"wrote {len(notices)} notices to {output}", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check notice data files (.jsonl or .csv); print every problem as FILE:LINE: field: message.

    Exits 0 when every file is valid, 1 otherwise.

    \b
    Example:
      paperlink validate samples/notices.jsonl
    """
    bad = 0
    for path in files:
        problems = validate_file(path)
        for problem in problems:
            click.echo(str(problem))
        if problems:
            bad += 1
            click.echo(f"{path}: {len(problems)} problem(s)", err=True)
        else:
            click.echo(f"{path}: valid", err=True)
    sys.exit(1 if bad else 0)


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file: .jsonl or .csv.")
@click.option("--encoding", type=click.Choice(sorted(ENCODINGS)), default="utf-8-sig", show_default=True,
              help="CSV encoding: utf-8-sig (UTF-8 with BOM) or cp932 (Shift_JIS) for older register systems.")
def convert(source: Path, output: Path, encoding: str) -> None:
    """Convert between the data format (.jsonl) and CSV, validating everything on the way.

    \b
    Example:
      paperlink convert notices.jsonl -o notices.csv --encoding cp932
    """
    notices = _read(source)
    _write(notices, output, encoding)
    click.echo(f"wrote {len(notices)} notices to {output}", err=True)


@main.group()
def keys() -> None:
    """The print side's signing key and the entry side's trusted keys.

    \b
    Example:
      paperlink keys init                      # print side, once
      paperlink keys export -o print-side.pub.pem
      paperlink keys trust print-side.pub.pem  # entry side
    """


@keys.command("init")
@pass_context
def keys_init(ctx: Context) -> None:
    """Create this PC's signing key pair in the data directory (never overwrites one).

    \b
    Example:
      paperlink keys init
    """
    store = KeyStore(ctx.home.ensure())
    public = store.init()
    click.echo(f"signing key created in {store.dir}")
    click.echo(f"fingerprint: {fingerprint(public)}")


@keys.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the public key (PEM).")
@pass_context
def keys_export(ctx: Context, output: Path) -> None:
    """Write the public key for the entry side, and show its fingerprint to compare there.

    \b
    Example:
      paperlink keys export -o print-side.pub.pem
    """
    fp = KeyStore(ctx.home).export(output)
    click.echo(f"public key written to {output}")
    click.echo(f"fingerprint: {fp}")


@keys.command("trust")
@click.argument("file", type=click.Path(path_type=Path))
@pass_context
def keys_trust(ctx: Context, file: Path) -> None:
    """Trust a print side's public key; compare the fingerprint shown with the one shown there.

    \b
    Example:
      paperlink keys trust print-side.pub.pem
    """
    fp = KeyStore(ctx.home.ensure()).trust(file)
    click.echo(f"trusted key {fp}")
    click.echo("compare this fingerprint with the one 'paperlink keys export' showed on the print side")


@main.command("print")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The PDF to write.")
@click.option("--only", help="Reprint only these notice ids (comma-separated); they keep their n/N.")
@click.option("--batch", "batch_id", help="Batch id to use (a reprint must name the original batch).")
@click.option("--date", "date", callback=_date_option, help="Print date on the cover (default: today).")
@pass_context
def print_command(ctx: Context, file: Path, output: Path, only: str | None, batch_id: str | None,
                  date: dt.date | None) -> None:
    """Print a notice file: a cover sheet and one sheet per notice, each self-tested before the PDF is written.

    \b
    Example:
      paperlink print notices.jsonl -o batch.pdf
      paperlink print notices.jsonl -o reprint.pdf --batch B20261126-7K3Q --only N20261126-00007
    """
    from paperlink.holding import read_holding
    from paperlink.ledger import Ledger
    from paperlink.outbox import record_printed
    from paperlink.payload import is_batch_id
    from paperlink.printing import prepare_batch, print_batch, write_pdf

    read = read_holding(file)
    prepared = prepare_batch(read.notices, read.held)  # the same notices, so a reprint keeps its n/N
    notices = prepared.notices
    if only and not batch_id:
        raise click.UsageError("--only reprints sheets of an existing batch: name it with --batch")
    if batch_id and not is_batch_id(batch_id):
        raise click.BadParameter(f"'{batch_id}' is not a batch id (like B20261126-7K3Q)", param_hint="--batch")
    private = KeyStore(ctx.home).signing_key()
    ids = [i.strip().upper() for i in only.split(",") if i.strip()] if only else None
    with click.progressbar(length=len(ids) if ids else len(notices), label="self-test", file=sys.stderr) as bar:
        result = print_batch(notices, private, batch_id=batch_id, printed_on=date, only=ids,
                             progress=lambda n: bar.update(1), held=prepared.held)
    write_pdf(result, output)
    if not ids:
        with Ledger.of(ctx.home.ensure()) as ledger:
            record_printed(ledger, result.batch_id, notices, prepared.held, getpass.getuser())
    click.echo(f"batch {result.batch_id}: {len(result.sheets)} sheet(s) written to {output} (all self-tested)")
    _report_held(prepared.held)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per notice or unreadable page.")
@click.option("--raw", is_flag=True, help="Print the text of every QR code found, whatever it is.")
@click.option("--typed", is_flag=True, help="Read codes typed by a handheld scanner (keyboard wedge), one per line, "
              "from standard input instead of files.")
@pass_context
def scan(ctx: Context, paths: tuple[Path, ...], as_json: bool, raw: bool, typed: bool) -> None:
    """Decode printed sheets from PDFs or images and verify their signatures.

    Exit 0 when every page gave a code, 2 when some page gave none, 1 when a file cannot be read.

    \b
    Example:
      paperlink scan batch.pdf --json
    """
    import json

    from paperlink.scanning import scan_paths

    trusted = KeyStore(ctx.home).trusted()
    if not paths and not typed:
        raise click.UsageError("name the files to scan, or use --typed")
    items = _typed_items(trusted) if typed else scan_paths(paths, trusted, printed=not raw)
    if not typed and not (as_json or raw) and len(paths) > 1:
        items = _with_progress(items, len(paths))
    unread = bad_input = 0
    no_ocr = False
    for item in items:
        if item.page == 0:
            bad_input += 1
        elif item.text is None:
            unread += 1
        if item.printed_problem is not None and not no_ocr:
            no_ocr = True
            click.echo(f"note: {item.printed_problem.message('en')}", err=True)
        if raw:
            if item.text is not None:
                click.echo(json.dumps({"source": item.source, "page": item.page, "text": item.text}))
        elif as_json:
            click.echo(json.dumps(item.to_json()))  # ASCII JSON: the same under any code page
        else:
            click.echo(_describe(item))
    sys.exit(1 if bad_input else 2 if unread else 0)


@main.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--once", is_flag=True, help="Process what is there now and stop (no polling loop).")
@click.option("--interval", type=click.FloatRange(0.2, 3600), default=2.0, show_default=True,
              help="Seconds between polls.")
@click.option("--stable", type=click.FloatRange(0, 600), default=2.0, show_default=True,
              help="Seconds a file's size must stay unchanged before it is read.")
@pass_context
def watch(ctx: Context, folder: Path | None, once: bool, interval: float, stable: float) -> None:
    """Import scans dropped into a folder (default: the data directory's scans/), then move them to done/ or failed/.

    \b
    Example:
      paperlink watch                 # the data directory's scan folder, until Ctrl+C
      paperlink watch /srv/scans --once
    """
    import time

    from paperlink.ledger import Ledger
    from paperlink.watch import ScanFolder

    home = ctx.home.ensure()
    _check_decoders(required=True)
    trusted = KeyStore(home).trusted()
    try:
        with Ledger.of(home) as ledger:
            scan_folder = ScanFolder(folder or home.scans, ledger, trusted, stable_seconds=0 if once else stable)
            click.echo(f"watching {scan_folder.root} (done/ and failed/ inside it)", err=True)
            while True:
                for outcome in scan_folder.poll():
                    where = "left in place" if outcome.outcome == "in_use" else f"{outcome.moved_to.parent.name}/"
                    line = f"{outcome.name}: {outcome.outcome} → {where}"
                    click.echo(line + (f" ({outcome.reason})" if outcome.reason else ""))
                if once:
                    return
                time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


@main.command()
@click.argument("batch_ids", nargs=-1)
@pass_context
def status(ctx: Context, batch_ids: tuple[str, ...]) -> None:
    """Show each batch in the ledger: notices received, their states, and the sheets still missing.

    \b
    Example:
      paperlink status
      paperlink status B20261126-7K3Q
    """
    from paperlink.holding import hold_text
    from paperlink.ledger import Ledger, LedgerError, views

    with Ledger.of(ctx.home.ensure()) as ledger:
        ids = batch_ids or tuple(views.batch_ids(ledger))
        if not ids and not views.sent_batch_ids(ledger):
            click.echo("no batches in the ledger yet")
        for batch_id in ids:
            state = views.batch_status(ledger, batch_id)
            if state is None:
                raise LedgerError("ledger_unknown_batch", batch_id=batch_id)
            click.echo(f"{batch_id}: {state.received}/{state.total} received")
            for seq, notice_id in state.missing:
                click.echo(f"  missing {seq}/{state.total} {notice_id or '(id not known yet)'}")
            for hold in views.open_holds(ledger, batch_id):
                click.echo(f"  held {hold.seq}/{state.total} {hold.notice_id or '(no readable id)'}: "
                           f"{hold_text(hold.reason_code, hold.params, 'en')}")
        _status_outbox(ledger)


def _status_outbox(ledger: Any) -> None:
    """The sending side's part of `status`: every notice sent or held here and not yet accounted for."""
    from paperlink.holding import hold_text
    from paperlink.ledger import OutboxState, views

    if not views.sent_batch_ids(ledger):
        return
    open_rows = views.unacknowledged(ledger)
    click.echo(f"sent from here: {len(open_rows)} notice(s) not yet acknowledged as exported by a receipt")
    for row in open_rows:
        where = f"{row.batch_id} {row.seq}/{row.total}" if row.seq else f"{row.batch_id} (held here)"
        if row.state is OutboxState.HELD:
            why = f"held here: {hold_text(row.reason_code or '', row.params, 'en')}"
        elif row.ack is None:
            why = "no receipt yet"
        else:
            why = row.ack.value + (f": {row.ack_reason}" if row.ack_reason else "")
        click.echo(f"  {where} {row.notice_id or '(no readable id)'}: {why}")


def _report_held(held: Any, what: str = "not sent; correct them and send them again") -> None:
    """Name each notice held back (on stderr): the rest of the batch went on."""
    for hold in held:
        click.echo(f"held {hold.label}: {hold.message('en')}", err=True)
    if held:
        click.echo(f"{len(held)} notice(s) held, {what}", err=True)


def _report_held_positions(batch_id: str | None, held: Any) -> None:
    for seq, hold in held:
        click.echo(f"  held {batch_id} n={seq} {hold.label}: {hold.message('en')}")


def _receipt_back(ledger: Any, home: Home, batch_id: str, folder: Path, clerk: str) -> None:
    """Pattern 1: a signed receipt of the batch into the shared folder's return/ (when this side has a key)."""
    from paperlink.office import require_office
    from paperlink.receipts import issue, write_to_folder

    keys = KeyStore(home)
    if not keys.has_signing_key():
        click.echo(f"  no receipt for {batch_id}: this side has no key (paperlink keys init)", err=True)
        return
    receipt = issue(ledger, batch_id, require_office(ledger), keys.signing_key(), "folder", clerk)
    click.echo(f"  receipt written to {write_to_folder(receipt, folder)}")


def _ask_office(ledger: Any, clerk: str) -> None:
    """Make sure the office's municipality code is set up: ask for it on a terminal, refuse otherwise."""
    from paperlink.office import OfficeUnset, office_code, set_office

    if office_code(ledger) is not None:
        return
    if not sys.stdin.isatty():
        raise OfficeUnset("office_unset")
    code = click.prompt("this office's municipality code (全国地方公共団体コード, 6 digits)", err=True)
    set_office(ledger, str(code), clerk)


F = TypeVar("F", bound=Callable[..., Any])


def _clerk_option(function: F) -> F:
    return click.option("--clerk", default=getpass.getuser, show_default="your login name",
                        help="Who does this (recorded in the audit log and media register).")(function)


def _small_text(path: Path) -> str:
    """A short secret file's text (at most 64 KiB, a regular file): an OSError otherwise."""
    from paperlink.safefs import read_regular

    try:
        return read_regular(path, 64 * 1024).decode("utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"cannot read {path}: not UTF-8 text") from None


def _passphrase(passphrase_file: Path | None, confirm: bool) -> str:
    if passphrase_file is not None:
        # an OSError: CoreErrorGroup says "cannot read"; a FIFO or device is refused, never read without end
        return _small_text(passphrase_file).rstrip("\r\n")
    return str(click.prompt("passphrase", hide_input=True, confirmation_prompt=confirm, err=True))


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The shared folder.")
@click.option("--batch", "batch_id", help="Batch id (default: a new one).")
@_clerk_option
@pass_context
def send(ctx: Context, file: Path, folder: Path, batch_id: str | None, clerk: str) -> None:
    """Pattern 1: deliver a notice file into the shared folder (data file, then signed manifest, both atomic).

    \b
    Example:
      paperlink send notices.jsonl --to /srv/moj-link
    """
    from paperlink.holding import read_holding
    from paperlink.ledger import Ledger
    from paperlink.sharedfolder import send_batch

    read = read_holding(file)
    home = ctx.home.ensure()
    with Ledger.of(home) as ledger:
        manifest = send_batch(ledger, read.notices, folder, KeyStore(home).signing_key(), batch_id, clerk, read.held)
    click.echo(f"batch {manifest.batch_id}: {manifest.count} notices delivered to {folder}")
    _report_held(read.held)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--watch", "keep_watching", is_flag=True, help="Keep polling the folder until Ctrl+C.")
@click.option("--interval", type=click.FloatRange(0.2, 3600), default=5.0, show_default=True,
              help="Seconds between polls with --watch.")
@click.option("--stable", type=click.FloatRange(0, 3600), default=2.0, show_default=True,
              help="With --watch: seconds a manifest must be in the folder before it is read.")
@click.option("--orphan-minutes", type=click.FloatRange(0, 10_000), default=10.0, show_default=True,
              help="Quarantine a data file whose manifest has not come after this long.")
@_clerk_option
@pass_context
def receive(ctx: Context, folder: Path, keep_watching: bool, interval: float, stable: float, orphan_minutes: float,
            clerk: str) -> None:
    """Pattern 1: import every complete, verified batch from the shared folder exactly once.

    Imported batches move to done/; anything incomplete, altered, unsigned or unknown to quarantine/
    with a .reason.txt file.

    \b
    Example:
      paperlink receive /srv/moj-link --watch
    """
    import time

    from paperlink.ledger import Ledger
    from paperlink.sharedfolder import Receiver

    home = ctx.home.ensure()
    quarantined = held = 0
    try:
        with Ledger.of(home) as ledger:
            _ask_office(ledger, clerk)
            receiver = Receiver(folder, ledger, KeyStore(home).trusted(), actor=clerk,
                                orphan_seconds=orphan_minutes * 60, stable_seconds=stable if keep_watching else 0)
            while True:
                for result in receiver.receive_once():
                    detail = f" ({result.reason})" if result.reason else f" ({result.count} notices)"
                    click.echo(f"{result.name}: {result.outcome}{detail}")
                    _report_held_positions(result.batch_id, result.held)
                    if result.outcome in ("imported", "duplicate") and result.batch_id:
                        _receipt_back(ledger, home, result.batch_id, folder, clerk)
                    quarantined += result.outcome == "quarantined"
                    held += result.outcome == "in_use"
                if not keep_watching:
                    break
                time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        return
    if quarantined:
        click.echo(f"{quarantined} item(s) quarantined: see {folder / 'quarantine'}", err=True)
    if held:
        click.echo(f"{held} item(s) left in place for now (held open by another program?): run again", err=True)
    if quarantined or held:
        sys.exit(2)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The bundle to write (e.g. on the USB stick).")
@click.option("--batch", "batch_id", help="Batch id (default: a new one).")
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the passphrase from this file instead of asking.")
@_clerk_option
@pass_context
def bundle(ctx: Context, file: Path, output: Path, batch_id: str | None, passphrase_file: Path | None,
           clerk: str) -> None:
    """Pattern 2: write a notice file as one encrypted, signed bundle for USB media.

    \b
    Example:
      paperlink bundle notices.jsonl -o /media/usb/B20261126-7K3Q.plb
    """
    from paperlink.bundle import write_bundle
    from paperlink.holding import read_holding
    from paperlink.ledger import Ledger
    from paperlink.payload import new_batch_id

    read = read_holding(file)
    passphrase = _passphrase(passphrase_file, confirm=True)
    home = ctx.home.ensure()
    with Ledger.of(home) as ledger:
        manifest = write_bundle(ledger, read.notices, output, batch_id or new_batch_id(dt.date.today()),
                                KeyStore(home).signing_key(), passphrase, clerk, read.held)
    click.echo(f"batch {manifest.batch_id}: {manifest.count} notices sealed into {output}")
    _report_held(read.held)


@main.command()
@click.argument("bundle_file", type=click.Path(path_type=Path))
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the passphrase from this file instead of asking.")
@_clerk_option
@pass_context
def unbundle(ctx: Context, bundle_file: Path, passphrase_file: Path | None, clerk: str) -> None:
    """Pattern 2: verify, decrypt (in memory) and import a bundle exactly once.

    \b
    Example:
      paperlink unbundle /media/usb/B20261126-7K3Q.plb
    """
    from paperlink.bundle import read_bundle
    from paperlink.ledger import Ledger

    home = ctx.home.ensure()
    with Ledger.of(home) as ledger:
        _ask_office(ledger, clerk)
    passphrase = _passphrase(passphrase_file, confirm=False)
    with Ledger.of(home) as ledger:
        _ask_office(ledger, clerk)
        result = read_bundle(ledger, bundle_file, passphrase, KeyStore(home).trusted(), clerk)
    click.echo(f"batch {result.batch_id}: {result.outcome} ({result.count} notices)")
    _report_held_positions(result.batch_id, result.held)


@main.command()
@pass_context
def media(ctx: Context) -> None:
    """Show the media register: every USB bundle written or read on this PC, who moved it and when.

    \b
    Example:
      paperlink media
    """
    from paperlink.bundle import media_register
    from paperlink.ledger import Ledger

    with Ledger.of(ctx.home.ensure()) as ledger:
        records = media_register(ledger)
    if not records:
        click.echo("the media register is empty")
    for r in records:
        arrow = "written" if r.direction == "out" else "read"
        click.echo(f"{japan_time(r.at)} JST  {r.batch_id}  {arrow:7}  {r.count:5} notices  {r.bundle_name}  by {r.clerk}")


@main.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The backup file to write (must not exist).")
@_clerk_option
@pass_context
def backup_command(ctx: Context, output: Path, clerk: str) -> None:
    """Back up the ledger, verified: a SQLite ledger by its online backup, reopened and checked; a ledger on a
    PostgreSQL server by pg_dump (custom format), the archive read back whole and its audit chain checked.

    \b
    Example:
      paperlink backup -o /media/backup/paperlink-2026-11-26.sqlite3
      paperlink --ledger postgresql://clerk1@ledger.example.lg.jp/paperlink backup -o paperlink-2026-11-26.dump
    """
    from paperlink.ledger import Ledger
    from paperlink.maintenance import backup

    with Ledger.of(ctx.home.ensure()) as ledger:
        result = backup(ledger, output, clerk)
    click.echo(f"backup written and verified: {result.path} (schema {result.schema_version}, "
               f"{result.notices} notices, {result.audit_entries} audit entries)")


@main.command()
@click.option("--days", type=click.IntRange(1, 3650), help="Set the retention period (days after export).")
@click.option("--apply", "apply_now", is_flag=True, help="Erase the personal data of expired batches now.")
@_clerk_option
@pass_context
def retention(ctx: Context, days: int | None, apply_now: bool, clerk: str) -> None:
    """Show or set the retention period, and erase personal data of batches exported longer ago.

    The facts stay: which notice, when, by whom. Every change and erasure is audited.

    \b
    Example:
      paperlink retention --days 90
      paperlink retention --apply
    """
    from paperlink.ledger import Ledger
    from paperlink.maintenance import RETENTION_SETTING, erase_expired, expired_batches, retention_days

    home = ctx.home.ensure()
    with Ledger.of(home) as ledger:
        if days is not None:
            ledger.set_setting(RETENTION_SETTING, str(days), clerk)
        click.echo(f"retention: personal data is erased {retention_days(ledger)} days after export")
        expired = expired_batches(ledger)
        if not apply_now:
            click.echo(f"{len(expired)} batch(es) due for erasure" + (": " + ", ".join(expired) if expired else ""))
            return
        result = erase_expired(ledger, home.root, clerk)
    click.echo(f"erased {result.notices} notices of {len(result.batches)} batch(es), {result.files} file(s)")
    if result.held:
        for path in result.held:
            click.echo(f"cannot delete {path}: held open by another program", err=True)
        click.echo(f"{len(result.held)} file(s) with personal data are still there: close the program holding "
                   "them and run 'paperlink retention --apply' again", err=True)
        sys.exit(1)


@main.group()
def audit() -> None:
    """The hash-chained audit log.

    \b
    Example:
      paperlink audit verify
    """


@audit.command("verify")
@click.option("--anchor", "anchor_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Also check an anchor from this file: a backup or export manifest, a receipt (repeat).")
@click.option("--printed", "printed", nargs=2, type=(click.IntRange(1), str), multiple=True, metavar="COUNT HEAD",
              help="Also check an anchor printed on a 処理結果一覧: its entry count and head hash (repeat).")
@pass_context
def audit_verify(ctx: Context, anchor_files: tuple[Path, ...], printed: tuple[tuple[int, str], ...]) -> None:
    """Check the audit log's hash chain and every anchor found; exit 1 naming what does not hold.

    Anchors are read from the data directory (keys/audit-anchor.json, keys/audit-anchors.jsonl, the
    manifests in exports/), from the files given with --anchor, and typed from paper with --printed.

    \b
    Example:
      paperlink audit verify
      paperlink audit verify --anchor /media/backup/paperlink-2026-11-26.sqlite3.manifest.json
      paperlink audit verify --printed 1234 5ac578a36c8f50d691452ede9742fac1142a84447db8780589b98d8261e5121b
    """
    from paperlink.ledger import Ledger
    from paperlink.messages import render

    for path in anchor_files:
        if not path.is_file():
            raise click.ClickException(f"{path}: no such file")
    with Ledger.of(ctx.home.ensure()) as ledger:
        broken = ledger.verify_audit()
        total = ledger.audit_count()
        checked = ledger.check_anchors(anchor_files)
        entries = ledger.audit_entries()
    failed = False
    if broken is not None:
        click.echo(f"audit chain BROKEN at entry {broken} (of {total}): the log was altered from there on")
        failed = True
    else:
        click.echo(f"audit chain intact: {total} entries")
    for count, head in printed:
        held = entries[count - 1].hash if count <= len(entries) else None
        if held is None:
            click.echo(f"printed anchor FAILED: entry {count} is missing: the log holds only {total} entries")
            failed = True
        elif held != head.strip().lower():
            click.echo(f"printed anchor FAILED: entry {count} differs from the printed head hash")
            failed = True
        else:
            click.echo(f"printed anchor holds: entry {count} (id {entries[count - 1].id})")
    given = {str(p) for p in anchor_files}
    for missing in sorted(given - {found.source for found, _ in checked}):
        click.echo(f"anchor NOT FOUND in {missing}")
        failed = True
    good = [found.anchor for found, problem in checked if problem is None]
    for found, problem in checked:
        if problem is not None:
            click.echo(f"anchor FAILED ({found.source}): {render(problem[0], {k: str(v) for k, v in problem[1].items()}, 'en')}")
            failed = True
    if good:
        last = max(good, key=lambda a: a.count)
        named = entries[last.count - 1] if 0 < last.count <= len(entries) else None
        where = f"entry {last.count}" + (f" (id {named.id}, {named.action}, {named.at})" if named else "")
        click.echo(f"anchors checked: {len(checked)}, {len(good)} hold; last anchored: {where}; "
                   f"{total - last.count} entries after it not anchored")
    elif not checked:
        click.echo("no anchors found: a log cut back to fewer entries cannot be told from a new one")
    if failed:
        sys.exit(1)


@audit.command("restored")
@_clerk_option
@pass_context
def audit_restored(ctx: Context, clerk: str) -> None:
    """After restoring the ledger from a backup: set aside the anchors the restored log no longer reaches.

    The anchors in keys/ pin entries written after the backup; `audit verify` reports them as a removed
    tail – which a restore is. This moves them into keys/anchors-before-restore-<time>/ (kept, not deleted)
    and records the restore in the audit log with how many entries were lost.

    \b
    Example:
      paperlink audit restored --clerk tanaka
    """
    from paperlink.ledger import Ledger, now

    with Ledger.of(ctx.home.ensure()) as ledger:
        if ledger.anchors is None:
            raise click.ClickException("not the ledger of a data directory")
        broken = ledger.verify_audit()
        if broken is not None:
            raise click.ClickException(f"audit chain BROKEN at entry {broken}: restore another backup first")
        checked = ledger.check_anchors()
        lost = max((f.anchor.count for f, problem in checked if problem is not None), default=0)
        held = ledger.audit_count()
        folder = ledger.anchors.archive(now().replace(":", "").replace("+0000", "Z"))
        with ledger.transaction():
            ledger.audit(clerk, "audit.restored", "audit", held=held, anchored_before=lost, archive=folder.name)
    click.echo(f"anchors set aside in {folder}; the log holds {held} entries"
               + (f", {lost - held} anchored entries were lost with the restore" if lost > held else ""))


@main.group("ledger")
def ledger_group() -> None:
    """The ledger as a whole: moving it from this PC's SQLite file to a PostgreSQL server.

    \b
    Example:
      paperlink ledger migrate --to "postgresql://clerk1@ledger.example.lg.jp/paperlink"
    """


@ledger_group.command("migrate")
@click.option("--to", "url", required=True, metavar="postgresql://…",
              help="The empty PostgreSQL database to copy the ledger into (no password in the URL: ~/.pgpass).")
@_clerk_option
@pass_context
def ledger_migrate(ctx: Context, url: str, clerk: str) -> None:
    """Copy this data directory's SQLite ledger into an empty PostgreSQL database and verify the copy.

    Every table is copied with its ids in one transaction; row counts, the rows themselves, the audit chain and
    every audit anchor of the data directory are checked against the source before it commits (nothing is kept
    if anything differs). A database that holds anything is refused. The SQLite file is left as it was; set
    PAPERLINK_LEDGER (or --ledger) to the URL on every desk afterwards (docs/postgresql.md).

    \b
    Example:
      paperlink ledger migrate --to "postgresql://clerk1@ledger.example.lg.jp/paperlink?sslrootcert=/etc/paperlink/ca.crt"
    """
    from paperlink.ledger import Ledger
    from paperlink.ledger.dialect import is_url, redact
    from paperlink.ledger.transfer import check_empty, migrate

    home = ctx.home.ensure()
    if not is_url(url):
        raise click.ClickException(f"{url} is not a PostgreSQL URL (postgresql://…)")
    if not home.ledger.is_file():
        raise click.ClickException(f"there is no SQLite ledger to move in {home.root}")
    check_empty(url)
    with Ledger(home.ledger, home=home.root) as source, Ledger(url, home=home.root) as target:
        result = migrate(source, target, clerk)
    for table in result.tables:
        click.echo(f"{table.table:15} {table.rows:8} rows  sha256 {table.digest[:16]}…  same on both sides")
    click.echo(f"ledger copied to {redact(url)} and verified: {sum(t.rows for t in result.tables)} rows, "
               f"audit chain of {result.audit_entries} entries holds on both sides (head {result.audit_head[:16]}…), "
               f"{result.anchors} anchors match")


def _typed_items(trusted: dict) -> Iterator[ScanItem]:  # type: ignore[type-arg]
    from paperlink.scanning import interpret
    from paperlink.wedge import WedgeInputError, normalise_wedge

    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            yield interpret(normalise_wedge(line), "<typed>", number, trusted)
        except WedgeInputError as exc:
            yield ScanItem("<typed>", number, problem=exc, text=line.rstrip("\n"))


def _with_progress(items: Iterator[ScanItem], files: int) -> Iterator[ScanItem]:
    """Pass items through while a progress bar on stderr counts the files done."""
    with click.progressbar(length=files, label="scanning", file=sys.stderr) as bar:
        current = None
        for item in items:
            if current is not None and item.source != current:
                bar.update(1)
            current = item.source
            yield item
        bar.update(1)


def _describe(item: ScanItem) -> str:
    where = f"{item.source} p.{item.page}"
    if item.sheet is not None:
        state = "verified" if item.verified else f"NOT VERIFIED ({item.error})"
        return f"{where}: {item.sheet.batch_id} {item.sheet.seq}/{item.sheet.total} {item.sheet.notice.notice_id} {state}"
    if item.manifest is not None:
        state = "verified" if item.verified else f"NOT VERIFIED ({item.error})"
        return f"{where}: manifest of {item.manifest.batch_id} ({len(item.manifest.entries)} notices) {state}"
    if item.printed is not None and item.printed.table_found:
        seq = f" {item.printed.seq}/{item.printed.total}" if item.printed.seq is not None else ""
        notice = f" {item.printed.notice_id}" if item.printed.notice_id else ""
        return (f"{where}: {item.error}; printed text:{seq}{notice} {len(item.printed.items)} item(s) proven by their "
                f"check characters, {len(item.printed.unproven)} to type")
    return f"{where}: {item.error}"


def _read(path: Path) -> list:  # type: ignore[type-arg]
    """The notices of a data file (a DataFileError lists every problem: see CoreErrorGroup)."""
    return read_notices(path)


def _write(notices: list, output: Path, encoding: str) -> None:  # type: ignore[type-arg]
    if output.suffix.lower() == ".csv":
        write_csv(notices, output, encoding)
    else:
        write_notices(notices, output)


# -- clerks, export, the entry screen ---------------------------------------------------------------

DEFAULT_PORT = 8765


@main.group()
def users() -> None:
    """Clerks' accounts (roles: entry 入力, review 審査, admin 管理).

    \b
    Example:
      paperlink users add tanaka --name "田中 花子" --role entry --role review
    """


@users.command("add")
@click.argument("login")
@click.option("--name", "display_name", required=True, help="The clerk's name as shown on screen and in the log.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(["entry", "review", "admin"]),
              help="A role (repeat for several).")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the password from this file's first line instead of asking (for scripts and tests).")
@pass_context
def users_add(ctx: Context, login: str, display_name: str, roles: tuple[str, ...], password_file: Path | None) -> None:
    """Create a clerk's account; the password is asked twice (or read from --password-file).

    \b
    Example:
      paperlink users add tanaka --name "田中 花子" --role entry
    """
    from paperlink.ledger import Ledger
    from paperlink.users import add_user

    password = _new_password(password_file)
    with Ledger.of(ctx.home.ensure()) as ledger:
        user = add_user(ledger, login, display_name, set(roles), password, actor="cli")
    click.echo(f"added {user.login} ({user.display_name}): {', '.join(sorted(user.roles))}")


def _new_password(password_file: Path | None) -> str:
    if password_file is None:
        return str(click.prompt("password", hide_input=True, confirmation_prompt=True))
    # an OSError: CoreErrorGroup says "cannot read FILE"
    text = _small_text(password_file)
    return text.splitlines()[0] if text else ""


@users.command("list")
@pass_context
def users_list(ctx: Context) -> None:
    """List the accounts with their roles and whether they are active.

    \b
    Example:
      paperlink users list
    """
    from paperlink.ledger import Ledger
    from paperlink.users import list_users

    with Ledger.of(ctx.home.ensure()) as ledger:
        for user in list_users(ledger):
            state = "active" if user.active else "deactivated"
            click.echo(f"{user.login:16} {user.display_name:12} {','.join(sorted(user.roles)):20} {state}")


@users.command("deactivate")
@click.argument("login")
@click.option("--reactivate", is_flag=True, help="Allow the account to log in again.")
@pass_context
def users_deactivate(ctx: Context, login: str, reactivate: bool) -> None:
    """Stop an account from logging in (a clerk who left); its name stays in the audit log.

    \b
    Example:
      paperlink users deactivate tanaka
    """
    from paperlink.ledger import Ledger
    from paperlink.users import set_active

    with Ledger.of(ctx.home.ensure()) as ledger:
        user = set_active(ledger, login, reactivate, actor="cli")
    click.echo(f"{user.login}: {'active' if user.active else 'deactivated'}")


@users.command("password")
@click.argument("login")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the new password from this file's first line instead of asking.")
@pass_context
def users_password(ctx: Context, login: str, password_file: Path | None) -> None:
    """Set a new password for an account (the clerk forgot it, or it may be known to others).

    \b
    Example:
      paperlink users password tanaka
    """
    from paperlink.ledger import Ledger
    from paperlink.users import set_password

    password = _new_password(password_file)
    with Ledger.of(ctx.home.ensure()) as ledger:
        set_password(ledger, login, password, actor="cli")
    click.echo(f"{login}: new password set")


@main.command()
@click.argument("batch_ids", nargs=-1)
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Pattern 1: write each receipt into this shared folder's return/ directory.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Pattern 2: seal the receipt of one batch into this bundle file.")
@click.option("--sheet", type=click.Path(dir_okay=False, path_type=Path),
              help="Pattern 3: print the receipt of one batch as a sheet with QR codes (PDF).")
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="With -o: read the passphrase from this file instead of asking.")
@_clerk_option
@pass_context
def receipt(ctx: Context, batch_ids: tuple[str, ...], folder: Path | None, output: Path | None, sheet: Path | None,
            passphrase_file: Path | None, clerk: str) -> None:
    """Receiving side: a signed receipt per batch (received, held with reason, entered, exported; per notice),
    returned by the batch's own pattern.

    \b
    Example:
      paperlink receipt --to /srv/moj-link
      paperlink receipt B20261126-7K3Q -o /media/usb/B20261126-7K3Q.receipt.plb
      paperlink receipt B20261126-7K3Q --sheet receipt.pdf
    """
    from paperlink.atomicfile import atomic_write_bytes
    from paperlink.ledger import Ledger, views
    from paperlink.office import require_office
    from paperlink.receipts import issue, receipt_sheet, seal_receipt, write_to_folder

    if sum(x is not None for x in (folder, output, sheet)) != 1:
        raise click.UsageError("name exactly one of --to FOLDER, -o BUNDLE, --sheet PDF")
    if (output or sheet) and len(batch_ids) != 1:
        raise click.UsageError("-o and --sheet take the receipt of exactly one batch: name it")
    home = ctx.home.ensure()
    private = KeyStore(home).signing_key()
    with Ledger.of(home) as ledger:
        office = require_office(ledger)
        for batch_id in batch_ids or views.batch_ids(ledger):
            via = "folder" if folder else "media" if output else "paper"
            signed = issue(ledger, batch_id, office, private, via, clerk)
            if folder is not None:
                click.echo(f"{batch_id}: receipt written to {write_to_folder(signed, folder)}")
            elif output is not None:
                atomic_write_bytes(output, seal_receipt(signed, _passphrase(passphrase_file, confirm=True)), 0o600)
                click.echo(f"{batch_id}: receipt sealed into {output}")
            elif sheet is not None:
                atomic_write_bytes(sheet, receipt_sheet(signed), 0o600)
                click.echo(f"{batch_id}: receipt sheet written to {sheet}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="For receipt bundles: read the passphrase from this file instead of asking.")
@_clerk_option
@pass_context
def acknowledge(ctx: Context, paths: tuple[Path, ...], passphrase_file: Path | None, clerk: str) -> None:
    """Sending side: import receipts – the shared folder (its return/ directory), receipt files, receipt bundles
    or scanned receipt sheets – then list every notice not yet accounted for.

    Exit 0 when every notice sent from here is acknowledged as exported, 2 while some are not.

    \b
    Example:
      paperlink acknowledge /srv/moj-link
      paperlink acknowledge /media/usb/B20261126-7K3Q.receipt.plb
      paperlink acknowledge scanned-receipt.pdf
    """
    from paperlink.ledger import Ledger, views
    from paperlink.receipts import (
        RECEIPT_SUFFIX,
        RETURN_DIR,
        import_receipt,
        read_receipt_sheet,
        receipts_in_bundle,
    )

    home = ctx.home.ensure()
    trusted = KeyStore(home).trusted()
    with Ledger.of(home) as ledger:
        for path in paths:
            items: list[tuple[str, bytes, str]] = []
            if path.is_dir():
                folder = path / RETURN_DIR if (path / RETURN_DIR).is_dir() else path
                items = [(str(p), p.read_bytes(), "folder") for p in sorted(folder.glob(f"*{RECEIPT_SUFFIX}"))]
            elif path.suffix.lower() == ".json":
                items = [(str(path), path.read_bytes(), "folder")]
            elif path.suffix.lower() in (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"):
                items = [(str(path), data, "paper") for data in read_receipt_sheet(path)]
            else:
                data = receipts_in_bundle(path.read_bytes(), _passphrase(passphrase_file, confirm=False), str(path))
                items = [(str(path), data, "media")]
            for name, data, via in items:
                result = import_receipt(ledger, data, name, trusted, clerk, via)
                counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
                click.echo(f"{name}: {result.batch_id} {result.outcome} ({counts})")
        _status_outbox(ledger)
        pending = views.unacknowledged(ledger)
    if pending:
        sys.exit(2)


@main.command()
@click.argument("batch_id")
@click.argument("seq", type=click.IntRange(1, 1_000_000))
@click.option("--note", required=True, help="What was corrected (kept in the audit log).")
@_clerk_option
@pass_context
def release(ctx: Context, batch_id: str, seq: int, note: str, clerk: str) -> None:
    """Release a held notice (n of a batch) once corrected; the release is audited with the note.

    A notice with a verified record returns to 確認済; one whose record could not be read returns to 未着,
    to be read or typed twice from the corrected notice.

    \b
    Example:
      paperlink release B20261126-7K3Q 5 --note "office code corrected"
    """
    from paperlink.holding import NotHeld
    from paperlink.holding import release as release_notice
    from paperlink.labels import STATE_LABELS
    from paperlink.ledger import Ledger, store

    with Ledger.of(ctx.home.ensure()) as ledger:
        row = store.notice_at(ledger, batch_id, seq)
        if row is None:
            raise NotHeld("hold_not_found", pk=f"{batch_id} {seq}")
        released = release_notice(ledger, row.id, clerk, note)
    click.echo(f"{batch_id} {seq}: released ({released.state.value} / {STATE_LABELS[released.state]})")


@main.command()
@click.option("--municipality", help="The office's 全国地方公共団体コード (asked for when not given).")
@_clerk_option
@pass_context
def setup(ctx: Context, municipality: str | None, clerk: str) -> None:
    """Set up this office: its municipality code, against which every notice that comes in is checked.

    Notices addressed to another municipality are held with that reason, never imported or dropped.

    \b
    Example:
      paperlink setup --municipality 131016
    """
    from paperlink.ledger import Ledger
    from paperlink.office import office_code, set_office

    with Ledger.of(ctx.home.ensure()) as ledger:
        if municipality is None:
            municipality = str(click.prompt("this office's municipality code (全国地方公共団体コード, 6 digits)",
                                            default=office_code(ledger) or None, err=True))
        code = set_office(ledger, municipality, clerk)
    click.echo(f"office municipality code: {code}")


@main.command("export")
@click.option("--batch", "batch_ids", multiple=True, help="A batch to export (repeat; default: every batch whose "
              "notices are all verified and that was not exported yet).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The file to write.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV (UTF-8 with BOM) instead of the notice data format.")
@click.option("--cp932", is_flag=True, help="CSV in Shift_JIS (cp932) for older register systems (implies --csv).")
@_clerk_option
@pass_context
def export_command(ctx: Context, batch_ids: tuple[str, ...], output: Path, as_csv: bool, cp932: bool,
                   clerk: str) -> None:
    """Write verified notices in the notice data format (or CSV) and record the export.

    \b
    Example:
      paperlink export -o verified.jsonl
      paperlink export --batch B20261126-7K3Q -o old-system.csv --cp932
    """
    from paperlink.export import export
    from paperlink.keys import KeyStore
    from paperlink.ledger import Ledger

    fmt = "csv-cp932" if cp932 else "csv" if as_csv else "jsonl"
    with Ledger.of(ctx.home.ensure()) as ledger:
        result = export(ledger, list(batch_ids) or None, output, fmt, clerk, trusted=KeyStore(ctx.home).trusted())
    click.echo(f"exported {result.count} notice(s) of {', '.join(result.batch_ids)} to {output}")
    _report_held(result.held, "not exported; see `paperlink status`")


def _check_decoders(required: bool) -> None:
    """At start-up: name the remedy when zxing-cpp cannot load (a warning, or an error when `required` and no
    decoder loads at all), instead of failing on the first scan."""
    from paperlink.decode import decoder_problem, usable

    problem = decoder_problem()
    if problem is None:
        return
    if required and not usable():
        raise click.ClickException(problem.message("en"))
    click.echo(f"warning: {problem.message('en')}", err=True)


def _already_running(host: str, port: int) -> bool | None:
    """Whether something listens on host:port: True if it is a paperlink screen, False if another program, None if
    nothing does."""
    import socket
    import urllib.error
    import urllib.request

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        if probe.connect_ex((host, port)) != 0:
            return None
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/login", timeout=3) as answer:
            return bool(answer.headers.get("X-Paperlink") == "entry-screen")
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _serve(home: Home, port: int) -> None:
    """The entry screen on waitress (a production WSGI server, pure Python), on paperlink's own loopback address."""
    import signal
    import threading

    from waitress import create_server

    from paperlink.watch import watch_in_background
    from paperlink.web import SERVE_HOST, create_app

    _check_decoders(required=False)  # typing a sheet in by hand still works without a decoder
    address = f"http://{SERVE_HOST}:{port}/"
    running = _already_running(SERVE_HOST, port)
    if running:
        raise click.ClickException(f"paperlink is already running at {address} – open that address in the "
                                   "browser (no second start is needed)")
    if running is False:
        raise click.ClickException(f"another program already uses {SERVE_HOST}:{port}; start paperlink with "
                                   "another --port")
    app = create_app({"HOME": str(home.root), "LEDGER": home.ledger_option})
    try:
        server = create_server(app, host=SERVE_HOST, port=port, threads=8, ident="paperlink")
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {SERVE_HOST}:{port} ({exc.strerror or exc}); "
                                   "is paperlink already running? Try another --port") from None
    stop = threading.Event()
    watcher = threading.Thread(target=watch_in_background, args=(home, stop), daemon=True, name="scan-folder")
    watcher.start()
    click.echo(f"scan folder: {home.scans} (files dropped there are imported automatically)")
    click.echo(f"paperlink: open {address} in the browser (Ctrl+C stops)")
    # Ctrl+C stops the screen even when paperlink was started with SIGINT ignored (a background job of a script, a
    # service wrapper): Python keeps an inherited "ignore", so the handler is set here explicitly
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("paperlink: stopped")
    finally:
        stop.set()
        server.close()


@main.command()
@click.option("--port", type=click.IntRange(1024, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port on 127.80.76.1, a loopback address of paperlink's own (never offered to other computers).")
@pass_context
def serve(ctx: Context, port: int) -> None:
    """Start the entry screen on this PC only (loopback address 127.80.76.1).

    \b
    Example:
      paperlink serve --port 8765
    """
    from paperlink.ledger import Ledger

    home = ctx.home.ensure()
    with Ledger.of(home) as ledger:
        _ask_office(ledger, getpass.getuser())
    _serve(home, port)


@main.command()
@click.option("--port", type=click.IntRange(1024, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port on 127.80.76.1 (loopback).")
@click.option("--count", type=click.IntRange(1, 100), default=12, show_default=True, help="Sample notices.")
@click.option("--no-serve", is_flag=True, help="Prepare the demo data directory and stop.")
@pass_context
def demo(ctx: Context, port: int, count: int, no_serve: bool) -> None:
    """Everything at once on sample data: keys, demo clerks, a printed batch registered, the screen.

    \b
    Example:
      paperlink --home /tmp/paperlink-demo demo
    """
    from paperlink.demo import prepare_demo

    result = prepare_demo(ctx.home, count)  # the core's errors: CoreErrorGroup
    if result.printed_now:
        click.echo(f"batch {result.batch_id}: {result.count} notices printed to {result.pdf}; cover registered")
    else:
        click.echo(f"demo batch already printed: {result.pdf}")
    click.echo(f"data directory: {result.root}")
    click.echo(f"clerks: {', '.join(result.clerks)} – password {result.password} (demo only)")
    click.echo(f"scan or show the sheets of {result.pdf} to the screen, or type one twice (手入力)")
    if not no_serve:
        _serve(ctx.home.ensure(), port)


if __name__ == "__main__":  # pragma: no cover
    main()
