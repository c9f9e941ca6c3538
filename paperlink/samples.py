"""Realistic synthetic notices for demos, tests and benchmarks.

Every notice generated is valid (it goes through `parse_notice`), the same (count, seed, date,
municipality) always gives the same notices, and the first notices cover every valid pairing of
event and category, so even a small sample shows every kind of sheet. All people are invented.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from paperlink.codetables import Status, duration_days, tables
from paperlink.notice import Notice, parse_notice

# (nationality, roman names, optional kanji names) – invented combinations of common names.
_PEOPLE: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("ベトナム", ("NGUYEN VAN AN", "TRAN THI MAI", "LE HOANG NAM", "PHAM THI THU HUONG", "NGUYEN THI NGOC ANH"), ()),
    ("中国", ("WANG WEI", "LI MINGHUA", "ZHANG XIAOLING", "LIU YANG", "CHEN JIANGUO"), ("王\u3000偉", "李\u3000明華", "張\u3000暁玲", "劉\u3000洋", "陳\u3000建国")),
    ("韓国", ("KIM MINJUN", "LEE SEOYEON", "PARK JIHOON", "CHOI YUNA"), ("金\u3000民俊", "李\u3000瑞妍", "朴\u3000志勲", "崔\u3000由那")),
    ("朝鮮", ("KANG YONGSU", "RI SUNHUI"), ("姜\u3000永秀", "李\u3000順姫")),
    ("台湾", ("LIN CHIAHUI", "HUANG CHIHMING"), ("林\u3000佳慧", "黄\u3000志明")),
    ("フィリピン", ("DELA CRUZ, MARIA CLARA SANTOS", "REYES, JOSE MIGUEL", "BAUTISTA, ANGELICA MAE"), ()),
    ("ブラジル", ("SILVA, JOAO PEDRO OLIVEIRA DOS SANTOS", "NAKAMURA DE SOUZA, ANA CAROLINA"), ()),
    ("ネパール", ("GURUNG BISHNU BAHADUR", "SHRESTHA SITA KUMARI"), ()),
    ("インドネシア", ("SITI NURHALIZA", "AHMAD FAUZI", "PUTRI AYU LESTARI"), ()),
    ("ミャンマー", ("AUNG KYAW MOE", "THIN THIN AYE"), ()),
    ("米国", ("SMITH, JOHN MICHAEL", "O-CONNOR, EMILY ROSE"), ()),
    ("ペルー", ("GARCIA FLORES, LUIS ALBERTO", "QUISPE MAMANI, ROSA ELENA"), ()),
    ("スリランカ", ("WICKRAMASINGHE MUDIYANSELAGE DON CHAMINDA PRIYANTHA KUMARA", "PERERA NIMALI"), ()),
    ("パキスタン", ("MUHAMMAD ABDUL RAHMAN BIN ABDULLAH AL-FARUQI", "AYESHA KHAN"), ()),
    ("無国籍", ("ALI HASSAN",), ()),
)
_MARRIED_SURNAMES = ("TANAKA", "SATO", "SUZUKI", "KIM", "NGUYEN")
_TOWNS = ("神田神保町", "飯田橋", "九段南", "麹町", "一番町", "外神田", "岩本町", "富士見", "神田錦町", "三崎町")
_BUILDINGS = ("", "", "", " グランドハイツ", " メゾン九段", " サンライズコート", " 第二青葉荘")



def _address_prefix(code: str) -> str:
    """The start of an address in the municipality: 東京都千代田区, 北海道札幌市中央区."""
    entry = tables().municipalities.get(code)
    return f"{entry.prefecture}{entry.name}" if entry is not None and entry.addressable else ""


@dataclass(frozen=True)
class SampleOptions:
    """What to generate: how many notices, the notice date, the seed and the municipality."""

    count: int
    notice_date: dt.date
    seed: int = 1
    municipality_code: str = "131016"


def pairings() -> list[tuple[str, str]]:
    """Every (event, category) pairing the code tables allow, in table order."""
    t = tables()
    return [(e.code, c) for e in t.events.values() for c in e.categories]


def generate(options: SampleOptions) -> list[Notice]:
    """`options.count` valid, varied notices (deterministic for the same options)."""
    rng = random.Random(options.seed)
    address_prefix = _address_prefix(options.municipality_code)
    notices: list[Notice] = []
    all_pairings = pairings()
    weights = [8 if e == "extension" else 4 if e in ("status_change", "departure", "card_reissue") else 1
               for e, _ in all_pairings]
    for i in range(options.count):
        event, category = all_pairings[i] if i < len(all_pairings) else rng.choices(all_pairings, weights)[0]
        builder = _Builder(rng, options, address_prefix, i + 1)
        notices.append(parse_notice(builder.build(event, category)))
    return notices


class _Builder:
    """Builds one raw notice of a given event and category."""

    def __init__(self, rng: random.Random, options: SampleOptions, address_prefix: str, seq: int) -> None:
        self.rng = rng
        self.options = options
        self.notice_date = options.notice_date
        self.event_date = options.notice_date - dt.timedelta(days=rng.randint(1, 14))
        self.address_prefix = address_prefix
        self.seq = seq

    # -- pieces --------------------------------------------------------------------------------

    def card_number(self) -> str:
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        r = self.rng
        return (r.choice(letters) + r.choice(letters) + f"{r.randrange(10**8):08d}" + r.choice(letters)
                + r.choice(letters))

    def address(self) -> str:
        r = self.rng
        building = r.choice(_BUILDINGS)
        room = f"{r.randint(1, 5)}0{r.randint(1, 9)}号室" if building else ""
        return (f"{self.address_prefix}{r.choice(_TOWNS)}{r.randint(1, 4)}丁目{r.randint(1, 20)}番"
                f"{r.randint(1, 30)}号{building}{room}")

    def person(self, birth_from: int = 1950, birth_to: int = 2006) -> dict[str, Any]:
        r = self.rng
        nationality, romans, kanjis = r.choice(_PEOPLE)
        index = r.randrange(len(romans))
        birth = dt.date(r.randint(birth_from, birth_to), r.randint(1, 12), r.randint(1, 28))
        return {"name": romans[index], "name_kanji": kanjis[index] if index < len(kanjis) else None,
                "birth_date": birth.isoformat(), "sex": r.choice("MF"), "nationality": nationality}

    def status(self, exclude: tuple[str, ...] = ()) -> Status:
        candidates = [s for s in tables().statuses.values()
                      if s.mid_long_term and s.valid_on(self.event_date) and not s.indefinite
                      and s.name not in exclude]
        return self.rng.choice(candidates)

    def period(self, status: Status) -> str:
        rule = tables().periods[status.code]
        fixed = [p for p in rule.periods if (duration_days(p) or 0) > 92]
        if rule.designated_max and (not fixed or self.rng.random() < 0.3):
            return self.rng.choice(["6月", "11月", "1年"] if (duration_days(rule.designated_max) or 0) <= 365
                                   else ["6月", "1年", "2年"])
        return self.rng.choice(fixed)

    def expiry_for(self, period: str, start: dt.date) -> str:
        return (start + dt.timedelta(days=(duration_days(period) or 365) - 1)).isoformat()

    def mid_long(self, status: Status | None = None) -> dict[str, Any]:
        status = status or self.status()
        period = self.period(status)
        return {"card_kind": self.card_kind(), "card_number": self.card_number(), "status": status.name,
                "period_of_stay": period, "expiry_date": self.expiry_for(period, self.event_date)}

    def card_kind(self) -> str:
        specified = tables().card_kinds["specified_residence_card"]
        if specified.valid_on(self.event_date) and self.rng.random() < 0.25:
            return "specified_residence_card"
        return "residence_card"

    # -- one notice ----------------------------------------------------------------------------

    def build(self, event: str, category: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "notice_id": f"N{self.notice_date:%Y%m%d}-{self.seq:05d}",
            "notice_date": self.notice_date.isoformat(), "event_date": self.event_date.isoformat(),
            "municipality_code": self.options.municipality_code, "event": event, "category": category,
        }
        record.update(self.person(*((self.event_date.year - 1, self.event_date.year)
                                    if category == "transit_birth" else (1950, 2006))))
        if category == "transit_birth":
            record["birth_date"] = (self.event_date - dt.timedelta(days=self.rng.randint(10, 59))).isoformat()
        record["address"] = self.address()
        record.update(self.category_items(category))
        before = getattr(self, f"event_{event}")(record)
        record["before"] = {key: value for key, value in before.items() if value is not None}
        if self.rng.random() < 0.1:
            record["remarks"] = self.rng.choice(["世帯主の変更を伴う", "在留カードは窓口で交付済み", "通称名の記載あり（市区町村で確認）"])
        return record

    def category_items(self, category: str) -> dict[str, Any]:
        if category == "mid_long_term":
            return self.mid_long()
        if category == "special_permanent":
            return {"card_kind": "sp_certificate", "card_number": self.card_number()}
        if category in ("temporary_refuge", "provisional_stay"):
            period = self.rng.choice(["3月", "6月"])
            return {"period_of_stay": period, "expiry_date": self.expiry_for(period, self.event_date)}
        return {}

    def event_status_change(self, record: dict[str, Any]) -> dict[str, Any]:
        old = self.status(exclude=(record["status"],))
        old_period = self.period(old)
        return {"status": old.name, "period_of_stay": old_period if old_period != record["period_of_stay"] else None,
                "expiry_date": (self.event_date + dt.timedelta(days=self.rng.randint(1, 60))).isoformat(),
                "card_number": self.card_number()}

    def event_extension(self, record: dict[str, Any]) -> dict[str, Any]:
        old_expiry = self.event_date + dt.timedelta(days=self.rng.randint(1, 60))
        record["expiry_date"] = self.expiry_for(record["period_of_stay"], old_expiry + dt.timedelta(days=1))
        return {"expiry_date": old_expiry.isoformat(), "card_number": self.card_number()}

    def event_acquisition(self, record: dict[str, Any]) -> dict[str, Any]:
        before = self.rng.choice(["transit_birth", "transit_nationality_loss"])
        if before == "transit_birth":
            record["birth_date"] = (self.event_date - dt.timedelta(days=self.rng.randint(10, 59))).isoformat()
            record["status"] = self.rng.choice(["永住者の配偶者等", "家族滞在", "定住者"])
            status = tables().statuses[record["status"]]
            record["period_of_stay"] = self.period(status)
            record["expiry_date"] = self.expiry_for(record["period_of_stay"], self.event_date)
        return {"category": before}

    def event_permanent(self, record: dict[str, Any]) -> dict[str, Any]:
        old = self.status()
        record.update(status="永住者", period_of_stay=None, expiry_date=None)
        return {"status": old.name, "period_of_stay": self.period(old),
                "expiry_date": (self.event_date + dt.timedelta(days=self.rng.randint(30, 300))).isoformat(),
                "card_number": self.card_number()}

    def event_identity_change(self, record: dict[str, Any]) -> dict[str, Any]:
        if self.rng.random() < 0.6:
            old_name = record["name"]
            surname = self.rng.choice([s for s in _MARRIED_SURNAMES if not old_name.startswith(s)])
            record["name"] = f"{surname} {old_name.split(',')[-1].strip().split(' ')[-1]}"
            return {"name": old_name, "card_number": self.card_number()}
        old = "無国籍" if record["nationality"] != "無国籍" else "ベトナム"
        return {"nationality": old, "card_number": self.card_number()}

    def event_card_reissue(self, record: dict[str, Any]) -> dict[str, Any]:
        before: dict[str, Any] = {"card_number": self.card_number()}
        if record["card_kind"] == "specified_residence_card":
            before["card_kind"] = "residence_card"
        return before

    def event_special_permanent(self, record: dict[str, Any]) -> dict[str, Any]:
        return {"card_number": self.card_number()} if self.rng.random() < 0.7 else {}

    def _ending(self, record: dict[str, Any]) -> dict[str, Any]:
        return {}

    event_revocation = event_deportation = event_departure = _ending

    def event_expiry(self, record: dict[str, Any]) -> dict[str, Any]:
        if record.get("expiry_date"):
            record["expiry_date"] = (self.event_date - dt.timedelta(days=1)).isoformat()
        return {}

    def event_correction(self, record: dict[str, Any]) -> dict[str, Any]:
        birth = dt.date.fromisoformat(record["birth_date"])
        wrong = birth.replace(day=birth.day % 28 + 1)
        if self.rng.random() < 0.5 or record["category"] == "transit_birth":
            return {"birth_date": wrong.isoformat()}
        return {"sex": "F" if record["sex"] == "M" else "M"}
