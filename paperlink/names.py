"""Names as the 在留カード writes them: the 正字 rule for 漢字氏名 and the roman-letter rule.

漢字氏名 (平成23年法務省告示第582号「在留カード等に係る漢字氏名の表記等に関する告示」): a 漢字氏名 is written in
正字, the range of Japan's kanji standards – JIS X 0208, JIS X 0212 and JIS X 0213 (同形異字 such as 芸・沈・叶
are the Japanese character, as 出入国在留管理庁's Q&A explains). A 簡体字 or other form outside that range is
replaced by the Ministry with its 正字 (张 → 張) before it reaches a card or a notice, so a notice that still
carries one is refused, naming the 正字 where paperlink knows it. A character is taken to be such a form when
it is in GB 2312 (the simplified-Chinese set) and in none of the three JIS sets. Any other ideograph outside
JIS (𠮷, a 戸籍統一文字, an ideographic variation sequence such as 葛󠄀) is a 正字 the register may hold and is
carried as it is: UTF-8, never a private-use code point. Not verified: the 告示's own 別表 (not found); the
check is by the character sets the 告示 names.

Roman letters: the card writes the name in the 26 basic letters A–Z (出入国在留管理庁: no other letters are used);
letters with diacritics are transliterated as the passport's machine-readable zone does (ICAO Doc 9303 Part 3,
section 6: Ü → UE, Ø → OE, ß → SS, É → E), apostrophes are omitted (O'CONNOR → OCONNOR), hyphens stay and a
comma separates family and given names where the passport does. Periods are not part of a name. The length
limit (120) is paperlink's, not the card's (the card's own limit was not found).
"""

from __future__ import annotations

import unicodedata

# ICAO Doc 9303 Part 3, section 6 (transliteration of Latin letters with diacritics); the rest lose their mark.
_ICAO = {"Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Ü": "UE", "ß": "SS", "Þ": "TH", "Œ": "OE",
         "Ĳ": "IJ", "Ð": "D", "Đ": "D", "Ł": "L", "Ħ": "H", "ı": "I", "Ŋ": "N"}

# Common 簡体字 in names and their 正字 (出入国在留管理庁「簡体字等を正字に置換する場合の基本的考え方」, examples).
SEIJI_FOR: dict[str, str] = {simplified: seiji for simplified, seiji in zip(
    "张陈杨赵孙马罗郑谢许韩冯邓苏吕卢钟谭陆贾韦邹闫龙贺顾龚钱严汤伟华丽军刚红晓鹏飞东兰凤颖辉强艳凯帅洁刘吴宁荣"
    "齐纪沟刍亚丰乔书买乱争亲亿仪优伦伤体俭债倾兴关养冈凤刘则刚创别剧劝办务动励劳勋胜单卖卫厅历压县发变叶",
    "張陳楊趙孫馬羅鄭謝許韓馮鄧蘇呂盧鍾譚陸賈韋鄒閻龍賀顧龔錢嚴湯偉華麗軍剛紅曉鵬飛東蘭鳳穎輝強艶凱帥潔劉呉寧栄"
    "斉紀溝芻亜豊喬書買乱争親億儀優倫傷体倹債傾興関養岡鳳劉則剛創別劇勧弁務動励労勲勝単売衛庁歴圧県発変葉",
    strict=True) if simplified != seiji}


def in_jis(ch: str) -> bool:
    """Whether a character is in JIS X 0208, JIS X 0212 or JIS X 0213 (the 正字 range of the 告示)."""
    for codec in ("euc_jis_2004", "euc_jp"):
        try:
            ch.encode(codec)
            return True
        except UnicodeEncodeError:
            continue
    return False


def simplified_form(ch: str) -> bool:
    """Whether an ideograph is a 簡体字 form outside the 正字 range (in GB 2312, in no JIS set)."""
    if in_jis(ch):
        return False
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return ch in SEIJI_FOR
    return True


def icao_transliteration(ch: str) -> str:
    """How the passport's machine-readable zone writes a letter (É → E, Ü → UE, ß → SS)."""
    upper = ch.upper() if ch != "ß" else ch
    if upper in _ICAO:
        return _ICAO[upper]
    base = "".join(c for c in unicodedata.normalize("NFD", upper) if not unicodedata.combining(c))
    return base if base.isascii() and base.isalpha() else ""
