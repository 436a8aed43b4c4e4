"""Query results for a terminal (a table) or in a standard format."""

from __future__ import annotations

import pyoxigraph as ox

from crinkkg.formats import formats_for
from crinkkg.vocab import PREFIXES

#: the command line's names for each format (from the one format registry)
RESULT_FORMATS = {f.name: f.oxigraph for f in formats_for("results")}
GRAPH_FORMATS = {f.name: f.oxigraph for f in formats_for("graph")}


def short(term: object) -> str:
    """A term as a person reads it: prefixed name, or the literal's text."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, ns in PREFIXES.items():
            if term.value.startswith(ns) and term.value != ns:
                return f"{prefix}:{term.value[len(ns):]}"
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def table(result: ox.QuerySolutions) -> str:
    names = [v.value for v in result.variables]
    rows = [[short(sol[n]) for n in names] for sol in result]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def render(result: object, fmt: str | None) -> bytes:
    """Serialise any query result; ``None`` picks the natural format for its kind."""
    if isinstance(result, ox.QueryBoolean):
        if fmt in (None, "table"):
            return (("yes" if bool(result) else "no") + "\n").encode()
        if fmt not in RESULT_FORMATS:
            raise ValueError(f"an ASK result cannot be written as {fmt}: use json, xml, csv or tsv")
        return result.serialize(format=RESULT_FORMATS[fmt])
    if isinstance(result, ox.QuerySolutions):
        if fmt in (None, "table"):
            return table(result).encode()
        if fmt not in RESULT_FORMATS:
            raise ValueError(f"SELECT results cannot be written as {fmt}: "
                             "use table, json, xml, csv or tsv")
        return result.serialize(format=RESULT_FORMATS[fmt])
    fmt = fmt or "turtle"
    if fmt not in GRAPH_FORMATS:
        raise ValueError(f"a graph cannot be written as {fmt}: "
                         "use turtle, ntriples, jsonld or rdfxml")
    return ox.serialize(result, format=GRAPH_FORMATS[fmt], prefixes=PREFIXES)


def format_statistics(figures: dict) -> str:
    """``crinkkg stats`` for a person: the figures of
    :meth:`~crinkkg.backends.contract.Backend.statistics` (``as_dict()``)."""
    lines = ["Triples per graph:"]
    lines += [f"  {n:>7}  {g or '(the default graph)'}" for g, n in figures["graphs"].items()]
    lines.append(f"  asserted {figures['asserted_triples']}, "
                 f"inferred {figures['inferred_triples']}, "
                 f"support {figures.get('support_triples', 0)}")
    lines.append("Instances per class:")
    lines += [f"  {n:>7}  {short(ox.NamedNode(c))}"
              for c, n in figures["instances_per_class"].items()]
    lines.append("Properties used:")
    lines += [f"  {n:>7}  {short(ox.NamedNode(p))}"
              for p, n in figures["properties_used"].items()]
    return "\n".join(lines)
