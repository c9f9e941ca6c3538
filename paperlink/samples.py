"""Realistic synthetic notices for demos, tests and benchmarks.

Every notice generated is valid (it goes through `parse_notice`), the same (count, seed, date,
municipality) always gives the same notices, and the first notices cover every valid pairing of
event and category, so even a small sample shows every kind of sheet. All people are invented.

Realistic means: transitions that happen (永住許可 from a status that leads to it, never straight from
技能実習; 特定技能1号 from 技能実習2号 or 留学; …), 特別永住者 with the names and ages of that category
(Korean names, 韓国 or 朝鮮, born in Japan, often the third or fourth generation), a name's sex where the
name implies one, and ages that fit the status (students young, 技能実習生 18–40, no infant 経営者).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from paperlink.codetables import Status, duration_days, tables
from paperlink.notice import Notice, parse_notice

# (nationality, ((roman name, kanji name or None, sex), …)) – invented combinations of common names.
_PEOPLE: tuple[tuple[str, tuple[tuple[str, str | None, str], ...]], ...] = (
    ("ベトナム", (("NGUYEN VAN AN", None, "M"), ("TRAN THI MAI", None, "F"), ("LE HOANG NAM", None, "M"),
                ("PHAM THI THU HUONG", None, "F"), ("NGUYEN THI NGOC ANH", None, "F"), ("DO DUC THANH", None, "M"))),
    ("中国", (("WANG WEI", "王\u3000偉", "M"), ("LI MINGHUA", "李\u3000明華", "M"), ("ZHANG XIAOLING", "張\u3000暁玲", "F"),
            ("LIU YANG", "劉\u3000洋", "M"), ("CHEN JIANGUO", "陳\u3000建国", "M"), ("ZHAO LI", "趙\u3000麗", "F"))),
    ("韓国", (("KIM MINJUN", "金\u3000民俊", "M"), ("LEE SEOYEON", "李\u3000瑞妍", "F"), ("PARK JIHOON", "朴\u3000志勲", "M"),
            ("CHOI YUNA", "崔\u3000由那", "F"))),
    ("台湾", (("LIN CHIAHUI", "林\u3000佳慧", "F"), ("HUANG CHIHMING", "黄\u3000志明", "M"))),
    ("フィリピン", (("DELA CRUZ, MARIA CLARA SANTOS", None, "F"), ("REYES, JOSE MIGUEL", None, "M"),
                 ("BAUTISTA, ANGELICA MAE", None, "F"))),
    ("ブラジル", (("SILVA, JOAO PEDRO OLIVEIRA DOS SANTOS", None, "M"), ("NAKAMURA DE SOUZA, ANA CAROLINA", None, "F"))),
    ("ネパール", (("GURUNG BISHNU BAHADUR", None, "M"), ("SHRESTHA SITA KUMARI", None, "F"))),
    ("インドネシア", (("SITI NURHALIZA", None, "F"), ("AHMAD FAUZI", None, "M"), ("PUTRI AYU LESTARI", None, "F"))),
    ("ミャンマー", (("AUNG KYAW MOE", None, "M"), ("THIN THIN AYE", None, "F"))),
    ("米国", (("SMITH, JOHN MICHAEL", None, "M"), ("O-CONNOR, EMILY ROSE", None, "F"))),
    ("ペルー", (("GARCIA FLORES, LUIS ALBERTO", None, "M"), ("QUISPE MAMANI, ROSA ELENA", None, "F"))),
    ("スリランカ", (("WICKRAMASINGHE MUDIYANSELAGE DON CHAMINDA PRIYANTHA KUMARA", None, "M"), ("PERERA NIMALI", None, "F"))),
    ("パキスタン", (("MUHAMMAD ABDUL RAHMAN BIN ABDULLAH AL-FARUQI", None, "M"), ("AYESHA KHAN", None, "F"))),
    ("無国籍", (("ALI HASSAN", None, "M"),)),
)
# 特別永住者: Korean family names with given names of the generations born in Japan; 韓国 or 朝鮮 (a few 台湾/中国).
_SPECIAL_PERMANENT: tuple[tuple[str, tuple[tuple[str, str | None, str], ...]], ...] = (
    ("韓国", (("KIM YONGSU", "金\u3000容洙", "M"), ("LEE MYONGJA", "李\u3000明子", "F"), ("PAK CHOLSU", "朴\u3000哲洙", "M"),
            ("KIM HANAKO", "金\u3000花子", "F"), ("CHOI KAZUO", "崔\u3000和夫", "M"), ("KANG MISUK", "姜\u3000美淑", "F"),
            ("LEE SHOTA", "李\u3000翔太", "M"), ("PAK YUNA", "朴\u3000由奈", "F"))),
    ("朝鮮", (("KANG YONGSU", "姜\u3000永秀", "M"), ("RI SUNHUI", "李\u3000順姫", "F"), ("KIM CHOLHO", "金\u3000哲浩", "M"),
            ("KO MIYOUNG", "高\u3000美英", "F"))),
    ("台湾", (("LIN MEILING", "林\u3000美玲", "F"),)),
)
_MARRIED_SURNAMES = ("TANAKA", "SATO", "SUZUKI", "KIM", "NGUYEN")
_TOWNS = ("神田神保町", "飯田橋", "九段南", "麹町", "一番町", "外神田", "岩本町", "富士見", "神田錦町", "三崎町")
_BUILDINGS = ("", "", "", " グランドハイツ", " メゾン九段", " サンライズコート", " 第二青葉荘")

# Plausible ages (at the event) per status; statuses not listed: 20–65.
_AGES: dict[str, tuple[int, int]] = {
    "留学": (18, 32), "技能実習1号イ": (18, 38), "技能実習1号ロ": (18, 38), "技能実習2号イ": (19, 40),
    "技能実習2号ロ": (19, 40), "技能実習3号イ": (21, 42), "技能実習3号ロ": (21, 42), "育成就労": (18, 38),
    "特定技能1号": (20, 45), "特定技能2号": (25, 55), "家族滞在": (1, 55), "技術・人文知識・国際業務": (22, 60),
    "高度専門職1号イ": (27, 65), "高度専門職1号ロ": (25, 60), "高度専門職1号ハ": (30, 65), "高度専門職2号": (30, 65),
    "経営・管理": (28, 70), "教授": (30, 70), "研究": (25, 65), "教育": (24, 60), "介護": (22, 55),
    "日本人の配偶者等": (20, 70), "永住者の配偶者等": (20, 70), "定住者": (5, 70), "永住者": (5, 85),
    "研修": (20, 40), "文化活動": (20, 60), "企業内転勤": (25, 60), "企業内転勤2号": (20, 45), "興行": (18, 45),
    "技能": (25, 60), "医療": (25, 65), "法律・会計業務": (27, 65), "宗教": (25, 70), "報道": (25, 65),
    "芸術": (22, 70), "特定活動": (20, 60),
}
# Status changes that happen (before → after); 永住許可 only from these statuses.
_CHANGES: tuple[tuple[str, str], ...] = (
    ("留学", "技術・人文知識・国際業務"), ("留学", "特定活動"), ("留学", "経営・管理"), ("留学", "特定技能1号"),
    ("技能実習2号イ", "特定技能1号"), ("技能実習2号ロ", "特定技能1号"), ("技能実習2号イ", "技能実習3号イ"),
    ("特定技能1号", "特定技能2号"), ("家族滞在", "留学"), ("家族滞在", "技術・人文知識・国際業務"),
    ("技術・人文知識・国際業務", "高度専門職1号ロ"), ("技術・人文知識・国際業務", "日本人の配偶者等"),
    ("技術・人文知識・国際業務", "経営・管理"), ("特定活動", "技術・人文知識・国際業務"), ("日本人の配偶者等", "定住者"),
    ("研究", "教授"), ("介護", "日本人の配偶者等"),
)
_PERMANENT_FROM = ("技術・人文知識・国際業務", "日本人の配偶者等", "永住者の配偶者等", "定住者", "高度専門職1号ロ",
                   "経営・管理", "技能", "教授", "特定技能2号", "介護")
# How often each event happens, relative to the others (for a 中長期在留者; other categories are rarer).
_EVENT_WEIGHTS = {"extension": 10, "status_change": 5, "departure": 4, "card_reissue": 3, "identity_change": 2,
                  "reentry_permit_lapsed": 2, "deemed_reentry_lapsed": 2, "expiry": 2, "special_permanent": 4}
_WAS_EMPTY = "\x00was-empty"
"""What an event method returns for a before value that was empty (becomes JSON null)."""


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
    weights = [_EVENT_WEIGHTS.get(e, 1) * (1.0 if c == "mid_long_term" else 0.12 if c == "special_permanent" else 0.03)
               for e, c in all_pairings]
    for i in range(options.count):
        event, category = all_pairings[i] if i < len(all_pairings) else rng.choices(all_pairings, weights)[0]
        builder = _Builder(rng, options, address_prefix, i + 1)
        notices.append(parse_notice(builder.build(event, category)))
    return notices


def _years_before(day: dt.date, years: int, rng: random.Random) -> dt.date:
    """A birth date making someone exactly `years` old on `day`."""
    return dt.date(day.year - years, day.month, min(day.day, 28)) - dt.timedelta(days=rng.randint(1, 360))


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

    def person(self, ages: tuple[int, int] = (20, 65), people: tuple[Any, ...] = _PEOPLE) -> dict[str, Any]:
        r = self.rng
        nationality, names = r.choice(people)
        roman, kanji, sex = r.choice(names)
        birth = _years_before(self.event_date, r.randint(*ages), r)
        return {"name": roman, "name_kanji": kanji, "birth_date": birth.isoformat(), "sex": sex,
                "nationality": nationality}

    def status(self, exclude: tuple[str, ...] = ()) -> Status:
        candidates = [s for s in tables().statuses.values()
                      if s.mid_long_term and s.valid_on(self.event_date) and not s.indefinite
                      and s.name not in exclude and not self._no_new_grants(s)]
        return self.rng.choice(candidates)

    def _no_new_grants(self, status: Status) -> bool:
        return status.new_grants_until is not None and self.event_date > status.new_grants_until

    def period(self, status: Status, day: dt.date | None = None) -> str:
        rule = tables().period_rule(status.code, day or self.event_date)
        fixed = [p for p in rule.periods if (duration_days(p) or 0) > 92]
        if rule.designated_max and (not fixed or self.rng.random() < 0.5):
            longest = duration_days(rule.designated_max) or 365
            choices = [p for p in ("6月", "11月", "1年", "1年11月", "2年", "2年10月", "3年") if
                       (duration_days(p) or 0) <= longest]
            return self.rng.choice(choices)
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

    def sp_card_kind(self) -> str:
        specified = tables().card_kinds["specified_sp_certificate"]
        if specified.valid_on(self.event_date) and self.rng.random() < 0.25:
            return "specified_sp_certificate"
        return "sp_certificate"

    def fit_age(self, record: dict[str, Any], status_name: str | None) -> None:
        """Give the person an age that fits the status (a student is young, a 技能実習生 of working age)."""
        low, high = _AGES.get(status_name or "", (20, 65))
        record["birth_date"] = _years_before(self.event_date, self.rng.randint(low, high), self.rng).isoformat()

    # -- one notice ----------------------------------------------------------------------------

    def build(self, event: str, category: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "notice_id": f"N{self.notice_date:%Y%m%d}-{self.seq:05d}",
            "notice_date": self.notice_date.isoformat(), "event_date": self.event_date.isoformat(),
            "municipality_code": self.options.municipality_code, "event": event, "category": category,
        }
        if category == "special_permanent":
            record.update(self.person((0, 90), _SPECIAL_PERMANENT))
        else:
            record.update(self.person())
        if category == "transit_birth":
            record["birth_date"] = (self.event_date - dt.timedelta(days=self.rng.randint(10, 59))).isoformat()
        record["address"] = self.address()
        record.update(self.category_items(category))
        if category == "mid_long_term":
            self.fit_age(record, record.get("status"))
        before = getattr(self, f"event_{event}")(record)
        record["before"] = {key: (None if value == _WAS_EMPTY else value) for key, value in before.items()
                            if value is not None}
        if self.rng.random() < 0.1:
            record["remarks"] = self.rng.choice(["世帯主の変更を伴う", "在留カードは窓口で交付済み", "通称名の記載あり（市区町村で確認）"])
        return record

    def category_items(self, category: str) -> dict[str, Any]:
        if category == "mid_long_term":
            return self.mid_long()
        if category == "special_permanent":
            return {"card_kind": self.sp_card_kind(), "card_number": self.card_number()}
        if category in ("temporary_refuge", "provisional_stay"):
            period = self.rng.choice(["3月", "6月"])
            return {"period_of_stay": period, "expiry_date": self.expiry_for(period, self.event_date)}
        return {}

    def _set_status(self, record: dict[str, Any], name: str) -> Status:
        status = tables().statuses[name]
        record["status"] = status.name
        if status.indefinite:
            record.update(period_of_stay=None, expiry_date=None)
        else:
            record["period_of_stay"] = self.period(status)
            record["expiry_date"] = self.expiry_for(record["period_of_stay"], self.event_date)
        self.fit_age(record, name)
        return status

    def event_status_change(self, record: dict[str, Any]) -> dict[str, Any]:
        choices = [(a, b) for a, b in _CHANGES if tables().statuses[b].valid_on(self.event_date)
                   and not self._no_new_grants(tables().statuses[b])]
        old_name, new_name = self.rng.choice(choices)
        self._set_status(record, new_name)
        old = tables().statuses[old_name]
        old_period = self.period(old, self.event_date - dt.timedelta(days=365))
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
            record["status"] = self.rng.choice(["永住者の配偶者等", "家族滞在", "定住者", "日本人の配偶者等"])
            status = tables().statuses[record["status"]]
            record["period_of_stay"] = self.period(status)
            record["expiry_date"] = self.expiry_for(record["period_of_stay"], self.event_date)
        else:   # a former Japanese national who lost Japanese nationality and then acquired a status
            self._set_status(record, self.rng.choice(["日本人の配偶者等", "定住者", "永住者"]))
        return {"category": before}

    def event_permanent(self, record: dict[str, Any]) -> dict[str, Any]:
        old = tables().statuses[self.rng.choice(_PERMANENT_FROM)]
        self._set_status(record, "永住者")
        self.fit_age(record, old.name)
        return {"status": old.name, "period_of_stay": self.period(old, self.event_date - dt.timedelta(days=365)),
                "expiry_date": (self.event_date + dt.timedelta(days=self.rng.randint(30, 300))).isoformat(),
                "card_number": self.card_number()}

    def event_identity_change(self, record: dict[str, Any]) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.4 and record["sex"] == "F" and "," not in record["name"] and not record.get("name_kanji"):
            old_name = record["name"]
            surname = self.rng.choice([s for s in _MARRIED_SURNAMES if not old_name.startswith(s)])
            record["name"] = f"{surname} {old_name.split(' ')[-1]}"
            return {"name": old_name, "card_number": self.card_number()}
        if roll < 0.6 and record.get("name_kanji"):
            kanji = record["name_kanji"]
            record["name_kanji"] = None    # 漢字氏名 removed from the card
            return {"name_kanji": kanji, "card_number": self.card_number()}
        if roll < 0.8 and record.get("name_kanji"):
            return {"name_kanji": _WAS_EMPTY, "card_number": self.card_number()}   # 漢字氏名 newly added to the card
        # a stateless person acquires a nationality (or, rarely, the reverse)
        return {"nationality": "無国籍" if record["nationality"] != "無国籍" else "ベトナム",
                "card_number": self.card_number()}

    def event_card_reissue(self, record: dict[str, Any]) -> dict[str, Any]:
        before: dict[str, Any] = {"card_number": self.card_number()}
        if record["card_kind"] == "specified_residence_card":
            before["card_kind"] = "residence_card"
        return before

    def event_special_permanent(self, record: dict[str, Any]) -> dict[str, Any]:
        before: dict[str, Any] = {"card_number": self.card_number()} if self.rng.random() < 0.7 else {}
        if before and record["card_kind"] == "specified_sp_certificate":
            before["card_kind"] = "sp_certificate"
        return before

    def _ending(self, record: dict[str, Any]) -> dict[str, Any]:
        return {}

    event_revocation = event_deportation = event_departure = _ending
    event_reentry_permit_lapsed = event_deemed_reentry_lapsed = _ending

    def event_expiry(self, record: dict[str, Any]) -> dict[str, Any]:
        if record.get("expiry_date"):
            record["expiry_date"] = (self.event_date - dt.timedelta(days=1)).isoformat()
        return {}

    def event_transit_end(self, record: dict[str, Any]) -> dict[str, Any]:
        if record["category"] == "transit_birth":
            record["birth_date"] = (self.event_date - dt.timedelta(days=self.rng.randint(60, 61))).isoformat()
        return {}

    def event_correction(self, record: dict[str, Any]) -> dict[str, Any]:
        birth = dt.date.fromisoformat(record["birth_date"])
        wrong = birth.replace(day=birth.day % 28 + 1)
        if self.rng.random() < 0.6 or record["category"] == "transit_birth":
            return {"birth_date": wrong.isoformat()}
        roman = record["name"]
        return {"name": roman[:-1] + ("A" if roman[-1] != "A" else "E")}   # a typo in the roman name

    def event_leaving_mid_long_term(self, record: dict[str, Any]) -> dict[str, Any]:
        old = (record["status"], record["period_of_stay"], record["expiry_date"])
        record.update(status="短期滞在", period_of_stay="90日", expiry_date=self.expiry_for("90日", self.event_date))
        return {"status": old[0], "period_of_stay": old[1], "expiry_date": old[2]}

    def event_card_first_issue(self, record: dict[str, Any]) -> dict[str, Any]:
        return {"card_number": _WAS_EMPTY}

    def event_period_extension(self, record: dict[str, Any]) -> dict[str, Any]:
        old_expiry = self.event_date + dt.timedelta(days=self.rng.randint(1, 20))
        record["expiry_date"] = self.expiry_for(record["period_of_stay"], old_expiry + dt.timedelta(days=1))
        return {"expiry_date": old_expiry.isoformat()}

    def event_special_permanent_grant(self, record: dict[str, Any]) -> dict[str, Any]:
        # the usual case: a child born in Japan to 特別永住者 (入管特例法 第4条), within 60 days of birth
        record["birth_date"] = (self.event_date - dt.timedelta(days=self.rng.randint(14, 55))).isoformat()
        return {"category": "transit_birth"}

    def event_revocation_departure_period(self, record: dict[str, Any]) -> dict[str, Any]:
        old_expiry = record["expiry_date"]
        record["expiry_date"] = (self.event_date + dt.timedelta(days=30)).isoformat()
        return {"expiry_date": old_expiry if old_expiry != record["expiry_date"] else None}
