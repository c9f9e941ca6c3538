"""A bounded load test on loopback: two clerks and a camera streaming 10 frames a second, for a fixed time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from webload import load_run, prepare_office


@pytest.mark.slow
def test_two_clerks_and_a_camera_for_eight_seconds(tmp_path: Path, capsys) -> None:
    """GIVEN a registered batch WHEN two clerks and a 10 fps camera work for 8 s THEN no error, nothing lost or doubled."""
    office = prepare_office(tmp_path / "office", count=8)
    result = load_run(office, seconds=8)
    assert result.errors == []
    assert result.duplicates_in_ledger == 0
    assert result.notices == 8  # every sheet was read (by camera or handheld scanner), none twice
    assert len(result.frame_times) >= 40
    assert result.p(result.frame_times + result.clerk_times, 0.95) < 2000
    with capsys.disabled():
        print(f"\nload test: {result.summary()}")
