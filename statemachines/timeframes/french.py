"""French timeframes, rewritten in the English the readers know: "d'ici fin mars 2024" is read as
"by end March 2024". Only words that cannot be English are rewritten."""

from __future__ import annotations

import re

_MONTHS = {
    "janvier": "January",
    "février": "February",
    "fevrier": "February",
    "avril": "April",
    "juin": "June",
    "juillet": "July",
    "août": "August",
    "aout": "August",
    "septembre": "September",
    "octobre": "October",
    "novembre": "November",
    "décembre": "December",
    "decembre": "December",
}
# "mars" and "mai" are months only beside a day, a year or a French preposition.
_SHORT_MONTHS = {"mars": "March", "mai": "May"}
_ORDINALS = {
    "1er": "first",
    "premier": "first",
    "1e": "first",
    "2e": "second",
    "2ème": "second",
    "2eme": "second",
    "deuxième": "second",
    "second": "second",
    "3e": "third",
    "3ème": "third",
    "3eme": "third",
    "troisième": "third",
    "4e": "fourth",
    "4ème": "fourth",
    "4eme": "fourth",
    "quatrième": "fourth",
    "dernier": "last",
}
_NUMBERS = {"un": "one", "deux": "two", "trois": "three", "quatre": "four", "six": "six"}
_NUMBERS |= {"douze": "twelve", "dix-huit": "eighteen", "cinq": "five", "neuf": "nine"}
_WORD = r"(?<![\w'’])"
_WITHIN = r"(?:dans\s+les|d['’]ici|sous|dans(?:\s+un\s+délai\s+de)?)\s+(\S+)\s+"
_PHRASES: tuple[tuple[str, str], ...] = (
    (
        r"(?:la\s+|lors\s+de\s+la\s+)?prochaine\s+réunion\b|(?:la\s+)?réunion\s+suivante\b",
        "next meeting",
    ),
    (
        r"pas\s+de\s+date\b|pas\s+d['’]échéance\b|aucune\s+échéance\b|sans\s+(?:date|échéance)\b",
        "no due date",
    ),
    (r"en\s+continu\b|en\s+cours\b|continue?\b(?=\W*$)|permanente?\b", "ongoing"),
    (r"dès\s+que\s+possible\b|au\s+plus\s+vite\b|sans\s+délai\b|immédiatement\b", "immediately"),
    (_WITHIN + r"mois\b", r"within \1 months"),
    (_WITHIN + r"semaines?\b", r"within \1 weeks"),
    (_WITHIN + r"jours?\b", r"within \1 days"),
    (r"(?:d['’]ici\s+(?:à\s+)?)?(?:la\s+)?fin\s+(?:de\s+l['’])?année\b", "by the end of the year"),
    (
        r"d['’]ici\s+(?:à\s+)?(?:la\s+|le\s+)?|avant\s+(?:la\s+|le\s+)?|au\s+plus\s+tard\s+(?:le\s+)?",
        "by ",
    ),
    (r"à\s+partir\s+(?:de\s+|d['’])|dès\s+(?:le\s+)?", "starting in "),
    (r"fin\s+(?:de\s+|d['’])?", "end of "),
    (r"début\s+(?:de\s+|d['’])?", "early "),
    (r"mi[-\s]", "mid-"),
    (r"(\S+)\s+trimestre(?:\s+de)?\b", r"\1 quarter"),
    (r"(\S+)\s+semestre(?:\s+de)?\b", r"\1 half of"),
    (r"T([1-4])(?=\s*\d{4})", r"Q\1"),
    (r"S([12])(?=\s*\d{4})", r"H\1"),
    (r"printemps\b", "spring"),
    (r"automne\b", "autumn"),
    (r"hiver\b", "winter"),
    (r"été(?=\s+\d{4})", "summer"),
    (r"chaque\s+année\b|tous\s+les\s+ans\b|annuellement\b", "every year"),
    (r"chaque\s+mois\b|tous\s+les\s+mois\b|mensuellement\b", "monthly"),
    (r"chaque\s+trimestre\b|trimestriellement\b", "quarterly"),
    (r"à\s+confirmer\b|à\s+déterminer\b|provisoire(?:ment)?\b", "to be confirmed"),
    (r"(\d{1,2})er\b", r"\1"),
    (r"en\b|au\s+cours\s+de\b|courant\b", "in"),
    (r"et\b", "and"),
    (r"au\b", "to"),
)
_COMPILED = tuple(
    (re.compile(_WORD + pattern, re.IGNORECASE), english) for pattern, english in _PHRASES
)


def to_english(text: str) -> str:
    """`text` with its French date words in English (English text comes back unchanged)."""
    if not _looks_french(text):
        return text
    for pattern, english in _COMPILED:
        text = pattern.sub(english, text)
    text = _ordinals_and_numbers(text)
    return _month_names(text)


_FRENCH_MARKS = re.compile(
    r"[éèêàùç]|\b(?:d['’]ici|réunion|trimestre|semestre|mois|année|fin|début|avant|dès|en\s+cours"
    r"|en\s+continu|janvier|février|avril|juin|juillet|août|septembre|octobre|novembre|décembre"
    r"|mars|mai|prochaine|chaque|semaines?|jours?|permanente?|continue?|pas\s+de|printemps|automne"
    r"|hiver|T[1-4]\s*\d{4}|S[12]\s*\d{4})\b",
    re.IGNORECASE,
)


def _looks_french(text: str) -> bool:
    return bool(_FRENCH_MARKS.search(text))


def _ordinals_and_numbers(text: str) -> str:
    def word(match: re.Match[str]) -> str:
        key = match[0].lower()
        return _ORDINALS.get(key) or _NUMBERS.get(key) or match[0]

    names = "|".join(sorted({*_ORDINALS, *_NUMBERS}, key=len, reverse=True))
    return re.sub(rf"{_WORD}(?:{names})(?!\w)", word, text, flags=re.IGNORECASE)


def _month_names(text: str) -> str:
    def month(match: re.Match[str]) -> str:
        return _MONTHS[match[0].lower()]

    names = "|".join(_MONTHS)
    text = re.sub(rf"{_WORD}(?:{names})(?!\w)", month, text, flags=re.IGNORECASE)
    short = r"(?<![\w'’])(mars|mai)(?=\s+\d{4}\b)|(?<=\d\s)(mars|mai)\b|(?<=\bin\s)(mars|mai)\b"
    short += r"|(?<=\bof\s)(mars|mai)\b|(?<=mid-)(mars|mai)\b|(?<=early\s)(mars|mai)\b"
    return re.sub(short, lambda m: _SHORT_MONTHS[m[0].lower()], text, flags=re.IGNORECASE)
