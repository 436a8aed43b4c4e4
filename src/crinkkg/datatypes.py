"""Lexical checks of typed literals for OWL 2 RL's ill-typed-literal rule (dt-not-type).

owlrl checks a literal by converting its lexical form with ``AltXSDToPYTHON``. Its
``xsd:double`` and ``xsd:float`` converters accept only values whose magnitude lies strictly
between two bounds, so every zero (``0E1``, ``"0"^^xsd:double``, ``"-0.0E0"``), and also
``INF``, ``-INF`` and ``NaN``, is called ill-typed and the build or update fails as
"inconsistent". XSD defines the lexical space of both types by a pattern (XML Schema 1.1
Part 2, 3.3.4-3.3.5); a value beyond the range rounds to an infinity or a zero, it is not
an error. :data:`LEXICAL_CHECKS` is owlrl's table with those two entries replaced;
:func:`fix_owlrl` puts the same two entries into owlrl's own table, which owlrl reads at
run time (its documented way to change a datatype's check is to write into that table).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from owlrl import DatatypeHandling
from rdflib.namespace import XSD

# XSD 1.1 doubleRep / floatRep (the same lexical space for both), after whitespace collapse;
# also rdflib's spellings of the special values ("inf", "-inf", "nan"): rdflib rewrites a
# literal's lexical form to Python's before the reasoner sees it
_FLOATING = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                       r"|[+-]?INF|NaN|-?inf|nan")


def _floating(kind: str) -> Callable[[str], float]:
    def check(lexical: str) -> float:
        text = lexical.strip()
        if not _FLOATING.fullmatch(text):
            raise ValueError(f"Invalid {kind} {lexical}")
        return float(text)

    check.__name__ = f"check_{kind}"
    return check


FIXED: dict = {XSD.double: _floating("double"), XSD.float: _floating("float")}
LEXICAL_CHECKS: dict = {**DatatypeHandling.AltXSDToPYTHON, **FIXED}


def fix_owlrl() -> None:
    """Make owlrl's dt-not-type rule accept every valid double and float (idempotent)."""
    DatatypeHandling.AltXSDToPYTHON.update(FIXED)


def is_well_typed(lexical: str, datatype: str) -> bool:
    """Whether ``lexical`` is in the lexical space of ``datatype`` as OWL 2 RL checks it
    (datatypes without a check count as well-typed).

    >>> is_well_typed("0E1", str(XSD.double)), is_well_typed("zero", str(XSD.double))
    (True, False)
    """
    from rdflib import URIRef

    check = LEXICAL_CHECKS.get(URIRef(datatype))
    if check is None:
        return True
    try:
        check(lexical)
    except ValueError:
        return False
    return True
