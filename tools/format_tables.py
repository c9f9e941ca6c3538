"""Regenerate the table sections of docs/format.md from paperlink/tables/*.json (the blocks between
`<!-- generated:NAME -->` and `<!-- end:NAME -->`).

    python tools/format_tables.py          # rewrite docs/format.md in place
    python tools/format_tables.py --check  # exit 1 if docs/format.md is out of date

The test suite runs the check, so the document never disagrees with the tables it publishes.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paperlink.codetables import TABLE_NAMES, table_set, tables  # noqa: E402

DOC = ROOT / "docs" / "format.md"


def _codes(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{i}`" for i in items) or "—"


def _date(value: object) -> str:
    return str(value) if value else "—"


def index() -> str:
    t = table_set()
    rows = ["| file | table version | entries | SHA-256 of the file's bytes |", "|---|---|---|---|"]
    counts = {"events": len(tables().events), "categories": len(tables().categories),
              "statuses": len(tables().statuses), "periods": sum(len(r) for r in tables().period_rules.values()),
              "card_kinds": len(tables().card_kinds), "nationalities": len(tables().nationalities),
              "municipalities": len(tables().municipalities)}
    for name in TABLE_NAMES:
        entry = t["tables"][name]
        rows.append(f"| `tables/{entry['file']}` | {entry['version']} | {counts[name]} | `{entry['sha256']}` |")
    return (f"Version of the set of tables: **{t['version']}** (`tables/index.json`).\n\n" + "\n".join(rows))


def categories() -> str:
    rows = ["| code | 区分 (label) | requires | forbids (must be empty) | card_kinds held | period_label |",
            "|---|---|---|---|---|---|"]
    for c in tables().categories.values():
        rows.append(f"| `{c.code}` | {c.label} | {_codes(c.requires)} | {_codes(c.forbids)} | {_codes(c.card_kinds)} | "
                    f"{c.period_label or '—'} |")
    rows += ["", "Card kinds (`card_kinds.json`):", "", "| code | label | number pattern | valid_from | valid_to |",
             "|---|---|---|---|---|"]
    for k in tables().card_kinds.values():
        rows.append(f"| `{k.code}` | {k.label} | `{k.pattern.pattern}` | {_date(k.valid_from)} | {_date(k.valid_to)} |")
    return "\n".join(rows)


def events() -> str:
    rows = ["| code | 事由 (label) | categories | before_any_of | before_allowed | before_may_be_empty | ends_residence |",
            "|---|---|---|---|---|---|---|"]
    for e in tables().events.values():
        rows.append(f"| `{e.code}` | {e.label} | {_codes(e.categories)} | {_codes(e.before_any_of)} | "
                    f"{_codes(e.before_allowed)} | {_codes(e.before_may_be_empty)} | {'yes' if e.ends_residence else 'no'} |")
    return "\n".join(rows)


def meaning() -> str:
    rows = ["| event | `event_date` is | register | what the register writes |", "|---|---|---|---|"]
    for e in tables().events.values():
        rows.append(f"| `{e.code}` {e.label} | {e.event_date} | **{e.register}** | {e.effect} |")
    return "\n".join(rows)


def statuses() -> str:
    rows = ["| code | name (canonical value) | valid_from | valid_to | new grants until | mid_long_term | indefinite |",
            "|---|---|---|---|---|---|---|"]
    for s in tables().statuses.values():
        rows.append(f"| `{s.code}` | {s.name} | {_date(s.valid_from)} | {_date(s.valid_to)} | "
                    f"{_date(s.new_grants_until)} | {str(s.mid_long_term).lower()} | {str(s.indefinite).lower()} |")
    return "\n".join(rows)


def periods() -> str:
    rows = ["| status | 在留資格 | periods | designated_max | valid_from | valid_to | source |", "|---|---|---|---|---|---|---|"]
    by_code = {s.code: s.name for s in tables().statuses.values()}
    for code, rules in tables().period_rules.items():
        for r in rules:
            rows.append(f"| `{code}` | {by_code.get(code, '?')} | {'、'.join(r.periods) or '—'} | {r.designated_max or '—'} | "
                        f"{_date(r.valid_from)} | {_date(r.valid_to)} | {r.source} |")
    return "\n".join(rows)


def nationalities() -> str:
    rows = ["| code | name (canonical value) | kind | ICAO 9303 | valid_from | valid_to |", "|---|---|---|---|---|---|"]
    for n in tables().nationalities.values():
        rows.append(f"| `{n.code}` | {n.name} | {n.kind} | {('`' + n.icao + '`') if n.icao else '—'} | "
                    f"{_date(n.valid_from)} | {_date(n.valid_to)} |")
    refused = ", ".join(f"`{name}` ({reason})" for name, reason in tables().nationalities_refused.items())
    return "\n".join(rows) + f"\n\nRefused with their reason (`refused` in the table): {refused}."


def municipalities() -> str:
    ms = tables().municipalities.values()
    kinds = Counter(m.kind for m in ms)
    cities = [m for m in ms if m.kind == "designated_city"]
    lines = ["| kind | entries | a notice may be addressed to it |", "|---|---|---|"]
    for kind in ("city", "town", "village", "special_ward", "ward", "designated_city", "prefecture", "special_ward_area"):
        lines.append(f"| `{kind}` | {kinds[kind]} | {'yes' if kind in ('city', 'town', 'village', 'special_ward', 'ward') else 'no'} |")
    dated = [m for m in ms if m.valid_from or m.valid_to]
    lines += ["", "政令指定都市 (refused; the message names the wards in use): " + "、".join(
        f"{c.name} `{c.code}`" for c in cities) + ".", "",
        "Codes with validity dates: " + "、".join(f"{m.name} `{m.code}` ({_date(m.valid_from)} – {_date(m.valid_to)})"
                                                 for m in dated) + "."]
    return "\n".join(lines)


VECTORS = ROOT / "tests" / "vectors"


def example() -> str:
    from paperlink.csvformat import dumps_csv
    from paperlink.dataformat import parse_jsonl

    lines = (VECTORS / "every-event.jsonl").read_text("utf-8").split("\n")[:4]
    digests = (VECTORS / "every-event.digests").read_text("utf-8").splitlines()[:3]
    rows = ["| notice_id | event | bytes | SHA-256 |", "|---|---|---|---|"]
    for line, entry in zip(lines[1:], digests, strict=True):
        notice_id, event, _, digest = entry.split()
        rows.append(f"| {notice_id} | `{event}` | {len(line.encode())} | `{digest}` |")
    header = lines[0].replace('"count":42', '"count":3')
    notices = parse_jsonl(("\n".join([header, *lines[1:]]) + "\n").encode(), "example")
    csv_rows = dumps_csv(notices).decode("utf-8-sig").split("\r\n")[1:4]
    return ("```\n" + "\n".join([header, *lines[1:]]) + "\n```\n\n" + "\n".join(rows) + "\n\n```\n"
            + "\n".join(csv_rows) + "\n```")


def invalid() -> str:
    out = []
    for name in ("order", "gating"):
        data = (VECTORS / f"{name}.jsonl").read_text("utf-8").rstrip("\n")
        expected = (VECTORS / f"{name}.expected").read_text("utf-8").rstrip("\n")
        out.append(f"`{name}.jsonl`:\n\n```\n{data}\n```\n\n`paperlink validate {name}.jsonl`:\n\n```\n{expected}\n```")
    return "\n\n".join(out)


def seiji() -> str:
    from paperlink.names import SEIJI_FOR

    return "、".join(f"{a}→{b}" for a, b in sorted(SEIJI_FOR.items()))


BLOCKS = {"index": index, "categories": categories, "events": events, "meaning": meaning, "statuses": statuses,
          "periods": periods, "nationalities": nationalities, "municipalities": municipalities, "example": example,
          "invalid": invalid, "seiji": seiji}


def render(text: str) -> str:
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- end:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"docs/format.md has no block {name}")
        body = make()
        text = pattern.sub(lambda m, body=body: m[1] + body + "\n" + m[2], text)
    return text


def main(argv: list[str]) -> int:
    text = DOC.read_text("utf-8")
    new = render(text)
    if "--check" in argv:
        return 0 if new == text else 1
    DOC.write_text(new, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
