"""The printed sheet as an official document (issue 11 §6): 宛先 from the municipality table, the sender, a document
number and the legal basis; a 消除 mark on events that remove the 住民票; labels per category; items in the order of
the 住民票; a visible mark where a long name is broken across lines. Read back from the rendered PDF's text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paperlink.notice import Notice, parse_notice
from paperlink.printing import print_batch
from paperlink.samples import SampleOptions, generate
from paperlink.sheets import BREAK_MARK, LEGAL_BASIS, SENDER, removes_record

KEY = Ed25519PrivateKey.generate()
SAMPLES = generate(SampleOptions(count=80, seed=3, notice_date=dt.date(2026, 11, 26)))


def _sheet_text(notices: list[Notice]) -> list[str]:
    """The text of every notice sheet (the cover pages left out), as pdfium extracts it."""
    import pypdfium2 as pdfium

    result = print_batch(notices, KEY)
    document = pdfium.PdfDocument(result.pdf)
    pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    return pages[len(pages) - len(notices):]


def _first(**where: str) -> Notice:
    return next(n for n in SAMPLES if all(getattr(n, k) == v for k, v in where.items()))


def test_the_sheet_is_addressed_numbered_signed_by_its_sender_and_names_its_legal_basis(record: Any) -> None:
    """GIVEN notices for 千代田区 and for a ward of 札幌市 WHEN printed THEN each sheet carries 宛先 from the municipality
    table (○○区長 殿), its document number, the sender and 住民基本台帳法第30条の50."""
    tokyo = parse_notice(record())
    sapporo = parse_notice(record(notice_id="N20261126-00002", municipality_code="011011"))
    first, second = _sheet_text([tokyo, sapporo])
    assert "千代田区長 殿" in first and "札幌市中央区長 殿" in second
    assert "第1号" in first and "第2号" in second
    for text in (first, second):
        assert SENDER in text and LEGAL_BASIS in text and "発信者" in text and "文書番号" in text


def test_an_event_that_removes_the_record_carries_the_removal_mark() -> None:
    """GIVEN a 退去強制 notice and an 在留期間更新 notice WHEN printed THEN only the first is marked 消除."""
    removing, keeping = _first(event="deportation"), _first(event="extension")
    assert removes_record("deportation") and not removes_record("extension")
    marked, plain = _sheet_text([removing, keeping])
    assert "消除（住民票を消除する事由）" in marked and "消除" not in plain


@pytest.mark.parametrize(("category", "labels", "not_labels"), [
    ("provisional_stay", ("仮滞在期間", "仮滞在期間の満了の日"), ("在留期間",)),
    ("temporary_refuge", ("上陸期間",), ("在留期間",)),
    ("special_permanent", ("特別永住者証明書番号",), ("在留カード番号",)),
    ("mid_long_term", ("在留期間", "在留期間の満了の日", "在留カード番号"), ("仮滞在期間",)),
])
def test_labels_follow_the_category(category: str, labels: tuple[str, ...], not_labels: tuple[str, ...]) -> None:
    """GIVEN a notice of each 区分 WHEN printed THEN its period, end date and card items carry that 区分's names."""
    notice = _first(category=category) if category != "special_permanent" else next(
        n for n in SAMPLES if n.category == category and n.card_number)
    (text,) = _sheet_text([notice])
    text = text.replace("\r\n", "")  # a long label wraps in its cell
    for label in labels:
        assert label in text, label
    for label in not_labels:
        assert label not in text, label


def test_items_follow_the_order_of_the_resident_record(record: Any) -> None:
    """GIVEN a notice WHEN printed THEN 氏名, 生年月日, 男女の別, 住所, 国籍・地域, 区分, 在留資格, 在留期間 follow each other
    in the order of the 住民票 (住基法 第7条, then 第30条の45)."""
    (text,) = _sheet_text([parse_notice(record())])
    rows = [line.split(" ")[0] for line in text[text.index("項目"):].splitlines()]
    order = ["氏名（ローマ字）", "生年月日", "男女の別", "住所", "国籍・地域", "区分", "在留資格", "在留期間",
             "在留期間の満了の日", "在留カード番号", "備考"]
    positions = [rows.index(label) for label in order]
    assert positions == sorted(positions)


def test_a_long_name_broken_across_lines_shows_where(record: Any) -> None:
    """GIVEN a roman name and a 漢字 name too long for one line WHEN printed THEN every break ends with ⇒, the legend
    says what it means, and the name with the marks removed is the name; a short name has no mark."""
    long_roman = ("WICKRAMASINGHE MUDIYANSELAGE DON " * 3).strip()
    long_kanji = "葛飾\u3000" + "山" * 40
    broken = parse_notice(record(name=long_roman, name_kanji=long_kanji))
    short = parse_notice(record(notice_id="N20261126-00002"))
    text, plain = _sheet_text([broken, short])
    assert text.count(BREAK_MARK) >= 4 and "氏名が次の行に続く" in text
    roman = text[text.index("WICKRAMASINGHE"):text.index("氏名（漢字）")].split()[:-1]  # its 検 characters last
    roman = " ".join(roman)
    assert " ".join(roman.replace(BREAK_MARK, " ").split()) == long_roman
    assert BREAK_MARK not in plain and "氏名が次の行に続く" not in plain
