"""The test vectors of docs/format.md (tests/vectors/): each file, what `paperlink validate` prints, exactly.

A vector is `NAME.jsonl` or `NAME.csv` with `NAME.expected`, the standard output of `paperlink validate NAME.…`
run inside tests/vectors/. `every-event.digests` lists the SHA-256 of each canonical record of
`every-event.jsonl`; `canonical-input.jsonl` converts to `canonical-output.jsonl` byte for byte.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperlink.cli import main

VECTORS = Path(__file__).resolve().parent / "vectors"
CASES = sorted(p.name for p in VECTORS.iterdir() if p.suffix in (".jsonl", ".csv") and
               (VECTORS / f"{p.stem}.expected").exists())


def validate(name: str) -> tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(VECTORS)
    try:
        result = CliRunner().invoke(main, ["validate", name])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout


def test_there_are_vectors_for_every_open_point_of_the_format() -> None:
    assert {"dates-separators.jsonl", "empty-lines.jsonl", "file-level.jsonl", "order.jsonl", "gating.jsonl",
            "csv-encoding.csv", "csv-encoding-no-bom.csv", "every-event.jsonl"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_validate_prints_exactly_the_expected_problems(name: str) -> None:
    code, out = validate(name)
    expected = (VECTORS / f"{Path(name).stem}.expected").read_text("utf-8")
    assert out == expected
    assert code == (1 if expected else 0)


def test_every_event_vector_has_the_published_digests() -> None:
    lines = (VECTORS / "every-event.jsonl").read_bytes().split(b"\n")[1:-1]
    digests = (VECTORS / "every-event.digests").read_text("utf-8").splitlines()
    assert len(lines) == len(digests)
    for line, entry in zip(lines, digests, strict=True):
        assert hashlib.sha256(line).hexdigest() == entry.split()[-1]


def test_the_canonical_form_of_the_input_vector_is_the_output_vector(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["convert", str(VECTORS / "canonical-input.jsonl"), "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_bytes() == (VECTORS / "canonical-output.jsonl").read_bytes()
