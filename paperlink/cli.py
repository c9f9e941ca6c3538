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
from paperlink.dates import DateParseError, parse_date
from paperlink.errors import DataFileError, PaperlinkError
from paperlink.fields import FieldProblem, norm_municipality
from paperlink.home import ENV_VAR, Home
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
        return why
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
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click's main() ends quietly when the reader of stdout went away
            raise click.ClickException(_os_error_message(exc, ctx.meta.get(_TARGETS, []))) from None


@click.group(cls=CoreErrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paperlink")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar=ENV_VAR,
              help=f"Data directory holding all state (default: ${ENV_VAR} or a per-user folder).")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """paperlink – MOJ notices about foreign residents, by line, media or paper, into the resident register.

    \b
    Example:
      paperlink samples --count 20 -o notices.jsonl
      paperlink validate notices.jsonl
    """
    ctx.obj = Context(Home.resolve(home))


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
    from paperlink.payload import is_batch_id
    from paperlink.printing import print_batch, write_pdf

    notices = _read(file)
    if only and not batch_id:
        raise click.UsageError("--only reprints sheets of an existing batch: name it with --batch")
    if batch_id and not is_batch_id(batch_id):
        raise click.BadParameter(f"'{batch_id}' is not a batch id (like B20261126-7K3Q)", param_hint="--batch")
    private = KeyStore(ctx.home).signing_key()
    ids = [i.strip().upper() for i in only.split(",") if i.strip()] if only else None
    with click.progressbar(length=len(ids) if ids else len(notices), label="self-test", file=sys.stderr) as bar:
        result = print_batch(notices, private, batch_id=batch_id, printed_on=date, only=ids,
                             progress=lambda n: bar.update(1))
    write_pdf(result, output)
    click.echo(f"batch {result.batch_id}: {len(result.sheets)} sheet(s) written to {output} (all self-tested)")


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
    items = _typed_items(trusted) if typed else scan_paths(paths, trusted)
    if not typed and not (as_json or raw) and len(paths) > 1:
        items = _with_progress(items, len(paths))
    unread = bad_input = 0
    for item in items:
        if item.page == 0:
            bad_input += 1
        elif item.text is None:
            unread += 1
        if raw:
            if item.text is not None:
                click.echo(json.dumps({"source": item.source, "page": item.page, "text": item.text}, ensure_ascii=False))
        elif as_json:
            click.echo(json.dumps(item.to_json(), ensure_ascii=False))
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
    trusted = KeyStore(home).trusted()
    try:
        with Ledger(home.ledger) as ledger:
            scan_folder = ScanFolder(folder or home.scans, ledger, trusted, stable_seconds=0 if once else stable)
            click.echo(f"watching {scan_folder.root} (done/ and failed/ inside it)", err=True)
            while True:
                for outcome in scan_folder.poll():
                    where = "left in place" if outcome.outcome == "held" else f"{outcome.moved_to.parent.name}/"
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
    from paperlink.ledger import Ledger, LedgerError, views

    with Ledger(ctx.home.ensure().ledger) as ledger:
        ids = batch_ids or tuple(views.batch_ids(ledger))
        if not ids:
            click.echo("no batches in the ledger yet")
        for batch_id in ids:
            state = views.batch_status(ledger, batch_id)
            if state is None:
                raise LedgerError("ledger_unknown_batch", batch_id=batch_id)
            click.echo(f"{batch_id}: {state.received}/{state.total} received")
            for seq, notice_id in state.missing:
                click.echo(f"  missing {seq}/{state.total} {notice_id or '(id not known yet)'}")


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
    from paperlink.ledger import Ledger
    from paperlink.sharedfolder import send_batch

    notices = _read(file)
    home = ctx.home.ensure()
    with Ledger(home.ledger) as ledger:
        manifest = send_batch(ledger, notices, folder, KeyStore(home).signing_key(), batch_id, clerk)
    click.echo(f"batch {manifest.batch_id}: {manifest.count} notices delivered to {folder}")


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
        with Ledger(home.ledger) as ledger:
            receiver = Receiver(folder, ledger, KeyStore(home).trusted(), actor=clerk,
                                orphan_seconds=orphan_minutes * 60, stable_seconds=stable if keep_watching else 0)
            while True:
                for result in receiver.receive_once():
                    detail = f" ({result.reason})" if result.reason else f" ({result.count} notices)"
                    click.echo(f"{result.name}: {result.outcome}{detail}")
                    quarantined += result.outcome == "quarantined"
                    held += result.outcome == "held"
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
    from paperlink.ledger import Ledger
    from paperlink.payload import new_batch_id

    notices = _read(file)
    passphrase = _passphrase(passphrase_file, confirm=True)
    home = ctx.home.ensure()
    with Ledger(home.ledger) as ledger:
        manifest = write_bundle(ledger, notices, output, batch_id or new_batch_id(dt.date.today()),
                                KeyStore(home).signing_key(), passphrase, clerk)
    click.echo(f"batch {manifest.batch_id}: {manifest.count} notices sealed into {output}")


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

    passphrase = _passphrase(passphrase_file, confirm=False)
    home = ctx.home.ensure()
    with Ledger(home.ledger) as ledger:
        result = read_bundle(ledger, bundle_file, passphrase, KeyStore(home).trusted(), clerk)
    click.echo(f"batch {result.batch_id}: {result.outcome} ({result.count} notices)")


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

    with Ledger(ctx.home.ensure().ledger) as ledger:
        records = media_register(ledger)
    if not records:
        click.echo("the media register is empty")
    for r in records:
        arrow = "written" if r.direction == "out" else "read"
        click.echo(f"{r.at}  {r.batch_id}  {arrow:7}  {r.count:5} notices  {r.bundle_name}  by {r.clerk}")


@main.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The backup file to write (must not exist).")
@_clerk_option
@pass_context
def backup_command(ctx: Context, output: Path, clerk: str) -> None:
    """Back up the ledger (SQLite online backup), verified by reopening the copy.

    \b
    Example:
      paperlink backup -o /media/backup/paperlink-2026-11-26.sqlite3
    """
    from paperlink.ledger import Ledger
    from paperlink.maintenance import backup

    with Ledger(ctx.home.ensure().ledger) as ledger:
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
    with Ledger(home.ledger) as ledger:
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
@pass_context
def audit_verify(ctx: Context) -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken entry.

    \b
    Example:
      paperlink audit verify
    """
    from paperlink.ledger import Ledger

    with Ledger(ctx.home.ensure().ledger) as ledger:
        broken = ledger.verify_audit()
        total = len(ledger.audit_entries())
    if broken is not None:
        click.echo(f"audit chain BROKEN at entry {broken} (of {total}): the log was altered from there on")
        sys.exit(1)
    click.echo(f"audit chain intact: {total} entries")


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
    with Ledger(ctx.home.ensure().ledger) as ledger:
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

    with Ledger(ctx.home.ensure().ledger) as ledger:
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

    with Ledger(ctx.home.ensure().ledger) as ledger:
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
    with Ledger(ctx.home.ensure().ledger) as ledger:
        set_password(ledger, login, password, actor="cli")
    click.echo(f"{login}: new password set")


@main.command("export")
@click.option("--batch", "batch_ids", multiple=True, help="A batch to export (repeat; default: every batch whose "
              "notices are all verified and that was not exported yet).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The file to write.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV (UTF-8 with BOM) instead of the notice data format.")
@click.option("--cp932", is_flag=True, help="CSV in Shift_JIS (cp932) for older register systems (implies --csv).")
@click.option("--clerk", default="cli", show_default=True, help="Who exports (for the audit log).")
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
    from paperlink.ledger import Ledger

    fmt = "csv-cp932" if cp932 else "csv" if as_csv else "jsonl"
    with Ledger(ctx.home.ensure().ledger) as ledger:
        result = export(ledger, list(batch_ids) or None, output, fmt, clerk)
    click.echo(f"exported {result.count} notice(s) of {', '.join(result.batch_ids)} to {output}")


def _serve(home: Home, port: int) -> None:
    import threading

    from werkzeug.serving import run_simple

    from paperlink.watch import watch_in_background
    from paperlink.web import create_app

    app = create_app({"HOME": str(home.root)})
    stop = threading.Event()
    watcher = threading.Thread(target=watch_in_background, args=(home.root, stop), daemon=True, name="scan-folder")
    watcher.start()
    click.echo(f"scan folder: {home.scans} (files dropped there are imported automatically)")
    click.echo(f"paperlink: open http://127.0.0.1:{port}/ in the browser (Ctrl+C stops)")
    try:
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); "
                                   "is paperlink already running? Try another --port") from None
    finally:
        stop.set()


@main.command()
@click.option("--port", type=click.IntRange(1024, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port on 127.0.0.1 (the screen is never offered to other computers).")
@pass_context
def serve(ctx: Context, port: int) -> None:
    """Start the entry screen on this PC only (127.0.0.1).

    \b
    Example:
      paperlink serve --port 8765
    """
    _serve(ctx.home.ensure(), port)


@main.command()
@click.option("--port", type=click.IntRange(1024, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port on 127.0.0.1.")
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
