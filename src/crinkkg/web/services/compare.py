"""What the sources say, side by side: every claim (a node derived from a source,
``prov:wasDerivedFrom``) about a pair of resources (two states) or
every account of one matter, grouped by source, with its words, modality, time and status;
the matters that tie accounts of several sources together and the differences recorded
between them; and the links OWL 2 RL derives between the pair, with their support.

Everything is read from the asserted graphs (what the sources say, not what the reasoner
adds) and the support graph, through the backend, like any client; nothing is judged here:
an account is marked as stated by several sources only when a ``crink:Matter`` ties it to
accounts of other sources, and as differing only when a ``crink:Difference`` names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crinkkg.vocab import PREFIXES
from crinkkg.web.context import get_backend, memo
from crinkkg.web.render.values import Value
from crinkkg.web.services.describe import labels_of, safe_iri
from crinkkg.web.services.support import LinkSupport, links_between

CRINK = PREFIXES["crink"]
#: at most this many claims on one page (the curated graph has about a hundred in all)
MAX_CLAIMS = 500


@dataclass
class Account:
    """One claim as its source states it."""

    claim: Value
    words: list[str] = field(default_factory=list)
    modality: Value | None = None
    time: Value | None = None
    status: Value | None = None
    #: the matters that tie this claim to accounts of other sources
    matters: list[Value] = field(default_factory=list)
    #: the recorded differences that name this claim: (difference, what they differ on)
    differences: list[tuple[Value, str]] = field(default_factory=list)


@dataclass
class SourceAccounts:
    """The accounts of one source."""

    source: Value | None  # None: a claim with no source (the shapes refuse it)
    accounts: list[Account]


@dataclass
class Difference:
    """A recorded difference between accounts on the page."""

    difference: Value
    differs_on: str
    accounts: list[Value]
    notes: list[str]


@dataclass
class Comparison:
    """The page's content."""

    subjects: list[Value]
    by_source: list[SourceAccounts]
    differences: list[Difference]
    links: list[LinkSupport]
    labels: dict[str, str]
    truncated: bool = False

    @property
    def claims(self) -> int:
        return sum(len(s.accounts) for s in self.by_source)


def compare_pair(a: str, b: str) -> Comparison | None:
    """Every claim that names both ``a`` and ``b`` (safe IRIs); None for a pair that is
    not one."""
    if not (safe_iri(a) and safe_iri(b)) or a == b:
        return None
    comparison = _compare(f"?c ?p1 <{a}> . ?c ?p2 <{b}> .", [a, b])
    comparison.links = links_between(a, b)
    return comparison


def compare_matter(matter: str) -> Comparison | None:
    """Every account of the matter ``matter`` (a safe IRI), or None if it has none."""
    if not safe_iri(matter):
        return None
    found = _compare(f"<{matter}> crink:hasAccount ?c .", [matter])
    return found if found.by_source else None


def _compare(pattern: str, subjects: list[str]) -> Comparison:
    select = get_backend().select_json
    rows = select(f"""SELECT DISTINCT ?c ?src ?words ?mod ?time ?status WHERE {{
  {{ SELECT DISTINCT ?c WHERE {{ {pattern} ?c prov:wasDerivedFrom ?any }}
    LIMIT {MAX_CLAIMS + 1} }}
  ?c prov:wasDerivedFrom ?src .
  OPTIONAL {{ ?c crink:statedIn/oa:hasSelector/oa:exact ?words }}
  OPTIONAL {{ ?c crink:hasModality ?mod }}
  OPTIONAL {{ ?c crink:hasTime ?time }}
  OPTIONAL {{ ?c crink:hasStatus ?status }}
}}""", view="asserted")["results"]["bindings"]
    claims = sorted({r["c"]["value"] for r in rows})
    truncated = len(claims) > MAX_CLAIMS
    claims = claims[:MAX_CLAIMS]
    ties = _ties(claims) if claims else []
    wanted = [*subjects, *claims, *(v["value"] for r in rows for k, v in r.items()
                                    if v["type"] == "uri")]
    wanted += [t[k] for t in ties for k in ("m", "d") if t.get(k)]
    labels = labels_of(wanted)

    def value(iri: str) -> Value:
        return Value.of({"type": "uri", "value": iri}, labels)

    accounts: dict[str, Account] = {c: Account(value(c)) for c in claims}
    sources: dict[str, set[str]] = {c: set() for c in claims}
    for r in rows:
        found = accounts.get(r["c"]["value"])
        if found is None:
            continue
        if "src" in r:
            sources[r["c"]["value"]].add(r["src"]["value"])
        if "words" in r and r["words"]["value"] not in found.words:
            found.words.append(r["words"]["value"])
        for key, attr in (("mod", "modality"), ("time", "time"), ("status", "status")):
            if key in r and getattr(found, attr) is None:
                setattr(found, attr, value(r[key]["value"]))
    differences: dict[str, Difference] = {}
    for t in ties:
        account = accounts[t["c"]]
        if t.get("m") and t["several"] and value(t["m"]) not in account.matters:
            account.matters.append(value(t["m"]))
        if t.get("d"):
            d = value(t["d"])
            if (d, t["on"]) not in account.differences:
                account.differences.append((d, t["on"]))
            entry = differences.setdefault(t["d"], Difference(d, t["on"], [], t["notes"]))
            if account.claim not in entry.accounts:
                entry.accounts.append(account.claim)
    by_source: dict[str | None, list[Account]] = {}
    for c in claims:
        for s in sorted(sources[c]) or [None]:
            by_source.setdefault(s, []).append(accounts[c])
    grouped = [SourceAccounts(value(s) if s else None,
                              sorted(a, key=lambda x: x.claim.text.lower()))
               for s, a in by_source.items()]
    grouped.sort(key=lambda g: (g.source is None, g.source.text.lower() if g.source else ""))
    return Comparison([value(s) for s in subjects], grouped,
                      sorted(differences.values(), key=lambda d: d.difference.text.lower()),
                      [], labels, truncated)


def _ties(claims: list[str]) -> list[dict]:
    """For each claim: the matters it is an account of (``several``: whether accounts of
    that matter come from more than one source) and the differences that name it."""
    values = " ".join(f"<{c}>" for c in claims)
    rows = get_backend().select_json(f"""SELECT ?c ?m (COUNT(DISTINCT ?s) AS ?n) ?d ?on
    (GROUP_CONCAT(DISTINCT ?note; separator="\\n") AS ?notes) WHERE {{
  VALUES ?c {{ {values} }}
  {{ ?m crink:hasAccount ?c , ?other . ?other prov:wasDerivedFrom ?s }}
  UNION
  {{ ?d crink:differingAccount ?c ; crink:differsOn ?on OPTIONAL {{ ?d skos:note ?note }} }}
}} GROUP BY ?c ?m ?d ?on""", view="asserted")["results"]["bindings"]
    return [{"c": r["c"]["value"], "m": r.get("m", {}).get("value"),
             "several": int(r["n"]["value"]) > 1 if "m" in r else False,
             "d": r.get("d", {}).get("value"), "on": r.get("on", {}).get("value", ""),
             "notes": [n for n in r.get("notes", {}).get("value", "").split("\n") if n]}
            for r in rows]


def states_compared_with(state: str) -> list[Value]:
    """The other states that claims name together with ``state``: the pairs a state's page
    offers to compare."""
    if not safe_iri(state):
        return []

    def read() -> list[str]:
        rows = get_backend().select_json(f"""SELECT DISTINCT ?other WHERE {{
  ?c prov:wasDerivedFrom ?source ; ?p <{state}> ; ?q ?other .
  ?other a crink:State . FILTER(?other != <{state}>)
}}""", view="asserted")["results"]["bindings"]
        return sorted(r["other"]["value"] for r in rows)

    iris = memo().get(("states compared with", state), read,  # once per version
                      size=lambda iris: 200 + 100 * len(iris))
    labels = labels_of(iris)
    return sorted((Value.of({"type": "uri", "value": i}, labels) for i in iris),
                  key=lambda v: v.text.lower())
