"""Names folded to the form they are compared in: case, accents, punctuation and ``&`` set aside.

Matching then compares folded names with rapidfuzz (graph.answering.reconcile.index), so that
"José", "Jose" and "JOSE" are one name, "U.S." is "us" and "Children's" is "childrens".
"""

from __future__ import annotations

import re
import unicodedata

#: Characters dropped outright: dots (so "U.S." is "us", "I.O.M." is "iom") and apostrophes.
_DROPPED = str.maketrans("", "", ".'\u2019\u2018`\u00b4")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
#: Words left out of an acronym (English and Spanish, the languages of the graph's labels).
_MINOR = frozenset(
    (
        *("a", "an", "and", "the", "of", "for", "in", "on", "to", "at", "by", "against", "with"),
        *("de", "del", "la", "las", "los", "el", "y", "e", "en", "para", "contra"),
    )
)


def fold(text: str) -> str:
    """``text`` in lower case, without accents or punctuation, ``&`` read as "and".

    >>> fold("  José  Reinaldo SERVELLÓN ")
    'jose reinaldo servellon'
    >>> fold("Bureau of Population, Refugees & Migration")
    'bureau of population refugees and migration'
    >>> fold("U.S. Department of State"), fold("Children\u2019s Rights")
    ('us department of state', 'childrens rights')
    """
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    lowered = text.casefold().replace("&", " and ").translate(_DROPPED)
    return _NOT_WORD.sub(" ", lowered).strip()


def words(folded: str) -> list[str]:
    """The words of a folded name.

    >>> words("inter institutional commission")
    ['inter', 'institutional', 'commission']
    """
    return folded.split()


def initials(folded: str) -> str | None:
    """The acronym people write for a name of three or more significant words, else None.

    >>> initials("international organization for migration")
    'iom'
    >>> initials("end violence partnership"), initials("united kingdom")
    ('evp', None)
    """
    significant = [w for w in folded.split() if w not in _MINOR and not w.isdigit()]
    if len(significant) < 3:
        return None
    return "".join(w[0] for w in significant)
