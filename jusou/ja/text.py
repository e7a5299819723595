"""Japanese text for search: one normal form for kanji, hiragana, katakana, half- and full-width."""

import unicodedata

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}
_SPACES = {ord(" "): None, ord("\u3000"): None, ord("\t"): None, ord("・"): None}


def normalize_for_search(text: str | None) -> str:
    """'ﾔﾏﾀﾞ ﾀﾛｳ', 'ヤマダタロウ', 'やまだ　たろう' → 'やまだたろう'; '山田 太郎' → '山田太郎'.

    NFKC turns half-width katakana (with their voiced marks) and full-width Latin into the usual
    forms; katakana then becomes hiragana; spaces and 中黒 are dropped; Latin is lower-cased.
    """
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).translate(_SPACES).translate(_KATAKANA_TO_HIRAGANA)
    return folded.lower()
