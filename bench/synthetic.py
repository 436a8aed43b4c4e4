"""A seedable, deterministic generator of synthetic data that follows the CRINK knowledge
model (v2: ontology 0.2.0 and its SHACL shapes) and passes the build's checks.

The shapes mimic the curated graph, scaled up: a few hundred states (the CRINK four and
their peers first, the rest weighted by a Zipf law so that a few states dominate), many
transfers between them as n-ary nodes (drones, missiles, artillery, troops, oil,
intelligence, industrial support, investment: each kind with its own supplier and recipient
sub-properties), alliance treaties with their provisions (and, for some, a signing on record
in an official document), partnerships with two parties, wars with belligerents, strikes
with attacker and target, requests that were not met, pledges, restraints, warnings and
limitations.

Every claim node is what the curated data is: derived (``prov:wasDerivedFrom``) from one or
two sources, with exactly one ``crink:hasModality`` (mostly asserted; some perceptions and
warnings, with ``crink:accordingTo`` where the sentence names whose, some qualified, and
limitations of capacity or will), a time (``crink:hasTime``: shared year time specs, days for
signings, "recent"/"current" relative to the source), and, for each of its sources whose
text the project stores, a ``crink:statedIn`` passage with W3C Web Annotation selectors
into that text. Each news source gets a generated text (``texts/<source>.txt``, its
``crink:sha256`` recorded) holding one sentence per claim it states, so the build's
anchor check verifies every selector; official documents are public record, with no stored
text and no anchors.

Nothing is asserted that OWL 2 RL would derive (no ``crink:supplies``, no inverse links):
the inferred graph shows what reasoning adds, as in the curated data.

Output: one file per theme in a folder (Turtle or N-Triples), each an OWL ontology that
imports the CRINK ontology, and the stored texts under ``texts/``. Only the data is
written; the project's own ``ontology/`` is the TBox of a synthetic build::

    python -m bench.synthetic --scale 50k --seed 1 --out /tmp/synth-50k
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from crinkkg.inputs.anchors import Selectors, selectors_for

CRINK = "https://w3id.org/crinkkg/ontology#"
ID = "https://w3id.org/crinkkg/id/"
ONTOLOGY = "https://w3id.org/crinkkg/ontology"
GRAPH = "https://w3id.org/crinkkg/graph/synthetic/"
PREFIXES = {
    "crink": CRINK,
    "id": ID,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "oa": "http://www.w3.org/ns/oa#",
    "wd": "http://www.wikidata.org/entity/",
}

# named scales: asserted data triples (the ontology adds its own ~1.6k on top)
SCALES = {"1k": 1_000, "5k": 5_000, "50k": 50_000, "500k": 500_000}
STATES_FOR = {"1k": 20, "5k": 60, "50k": 200, "500k": 400}
TRIPLES_PER_SOURCE = 300  # one source per ~300 triples: ~12 claims (sentences) per text

# The real states first (Wikidata items from the design notes), so that queries can name
# them; the others are synthetic.
REAL_STATES = [
    ("china", "China", "Q148"), ("russia", "Russia", "Q159"), ("iran", "Iran", "Q794"),
    ("north-korea", "North Korea", "Q423"), ("israel", "Israel", "Q801"),
    ("united-states", "United States", "Q30"), ("ukraine", "Ukraine", "Q212"),
]

# transfer class -> (supplier property, recipient property, item kinds, weight)
TRANSFER_KINDS = [
    ("DroneTransfer", "armsSupplier", "armsRecipient", ["kind-drones"], 18),
    ("MissileTransfer", "armsSupplier", "armsRecipient", ["kind-missiles"], 14),
    ("ArtilleryTransfer", "armsSupplier", "armsRecipient", ["kind-artillery"], 12),
    ("ArmsTransfer", "armsSupplier", "armsRecipient",
     ["kind-fighter-aircraft", "kind-air-defence-systems", "kind-major-weapons"], 8),
    ("TroopDeployment", "troopSender", "troopReceiver", ["kind-troops"], 4),
    ("OilSale", "oilSeller", "oilBuyer", ["kind-oil"], 16),
    ("IntelligenceSupport", "supplier", "recipient", ["kind-intelligence"], 8),
    ("IndustrialSupport", "supplier", "recipient", ["kind-industrial-support"], 10),
    ("Investment", "supplier", "recipient", ["kind-investment"], 10),
]
ARMS = {"DroneTransfer", "MissileTransfer", "ArtilleryTransfer", "ArmsTransfer"}
ITEM_WORDS = {"kind-drones": "drones", "kind-missiles": "missiles",
              "kind-artillery": "artillery", "kind-fighter-aircraft": "fighter jets",
              "kind-air-defence-systems": "air-defence systems",
              "kind-major-weapons": "major weapons", "kind-investment": "investment"}
TRANSFER_STATUSES = ["status-delivered", "status-delivered", "status-delivered",
                     "status-ongoing"]  # a transfer is realised (the shapes say so)
OBLIGATIONS = ["obligation-defence", "obligation-offense", "obligation-neutrality",
               "obligation-non-aggression", "obligation-consultation"]
ALIGNMENT_KINDS = ["alignment-formal-military-alliance", "alignment-cooperation-of-convenience",
                   "alignment-close-strategic-ties", "alignment-strategic-but-cautious"]
TRENDS = ["trend-increasing", "trend-deepening", "trend-diminishing"]
AREAS = ["area-military", "area-battlefield", "area-intelligence", "area-diplomatic",
         "area-strategic", "area-economic", "area-defence-industry"]
ASSETS = ["asset-air-defences", "asset-nuclear-infrastructure"]
ACTIONS = {"action-arms-transfer": "send arms to", "action-direct-military-involvement":
           "become directly involved in the fighting for",
           "action-military-intervention": "intervene militarily for"}
YEARS = list(range(2000, 2026))
PUBLISHERS = ["wire-service", "daily-chronicle", "global-herald", "defence-weekly",
              "policy-review", "state-gazette", "strategic-monitor", "evening-post"]
WEAPON_FAMILIES = [("Shahed", "kind-drones"), ("Geran", "kind-drones"),
                   ("Fateh", "kind-missiles"), ("Hwasong", "kind-missiles"),
                   ("Iskander", "kind-missiles"), ("Koksan", "kind-artillery"),
                   ("Su", "kind-fighter-aircraft"), ("S-", "kind-air-defence-systems"),
                   ("Bavar", "kind-air-defence-systems"), ("T-", "kind-major-weapons")]

# share of the data triples per theme (transfers dominate, as in a SIPRI-like register)
THEMES = [("transfers", 0.56), ("alignments", 0.12), ("conflicts", 0.12),
          ("requests", 0.08), ("stances", 0.06)]

# how a source states a claim, per kind of claim: (modality, weight); perceptions name
# whose in half the cases, warnings always name who warns (crink:accordingTo)
MODALITY_MIX: dict[str, list[tuple[str, float]]] = {
    "transfer": [("asserted", 0.90), ("perception", 0.04), ("qualified", 0.06)],
    "partnership": [("asserted", 0.80), ("perception", 0.10), ("qualified", 0.10)],
    "strike": [("asserted", 0.90), ("qualified", 0.10)],
    "request": [("asserted", 0.95), ("qualified", 0.05)],
    "pledge": [("asserted", 0.85), ("qualified", 0.15)],
    "asserted": [("asserted", 1.0)],
}
OFFICIAL_SHARE = 0.15  # sources that are documents of public record (no stored text)
TIME_MIX = [("year", 0.85), ("recent", 0.10), ("current", 0.05)]


@dataclass
class Generated:
    """What a generation run wrote: files, triple counts, and entities queries can name."""

    scale: str
    seed: int
    fmt: str
    triples: int
    files: dict[str, int] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)
    sample: dict[str, str] = field(default_factory=dict)
    texts: int = 0
    anchors: int = 0
    modalities: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def target_triples(scale: str | int) -> int:
    if isinstance(scale, int):
        return scale
    if scale in SCALES:
        return SCALES[scale]
    s = scale.lower().rstrip("k")
    return int(float(s) * (1000 if scale.lower().endswith("k") else 1))


def _lit(text: str, lang: str | None = "en") -> str:
    esc = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
           .replace("\r", "\\r"))
    return f'"{esc}"@{lang}' if lang else f'"{esc}"'


def _typed(value: str, dt: str) -> str:
    return f'"{value}"^^xsd:{dt}'


# An object whose text is known only once every stored text is complete (selectors, digests)
Deferred = Callable[[], str]


class _Writer:
    """Collects (subject, predicate, object) in prefixed form, grouped by subject."""

    def __init__(self, theme: str, label: str) -> None:
        self.blocks: list[tuple[str, list[tuple[str, str | Deferred]]]] = []
        self.count = 0
        self.claims = 0
        self.node(f"<{GRAPH}{theme}>", [("a", "owl:Ontology"), ("rdfs:label", _lit(label)),
                                         ("owl:imports", f"<{ONTOLOGY}>")])

    def node(self, subject: str, pairs: list[tuple[str, str | Deferred]]) -> None:
        self.blocks.append((subject, pairs))
        self.count += len(pairs)


def _expand(term: str) -> str:
    """Prefixed name or literal with prefixed datatype -> N-Triples term."""
    if term.startswith('"'):
        if "^^" in term:
            lex, dt = term.rsplit("^^", 1)
            return f"{lex}^^{_expand(dt)}"
        return term
    if term.startswith(("<", "_:")):
        return term
    if term == "a":
        return f"<{PREFIXES['rdf']}type>"
    prefix, local = term.split(":", 1)
    return f"<{PREFIXES[prefix]}{local}>"


def _write(path: Path, writer: _Writer, fmt: str, header: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        if fmt == "ttl":
            out.write(f"# {header}\n")
            for p, ns in PREFIXES.items():
                out.write(f"@prefix {p}: <{ns}> .\n")
            for subject, pairs in writer.blocks:
                out.write(f"\n{subject}")
                sep = " "
                for pred, obj in pairs:
                    out.write(f"{sep}{pred} {obj() if callable(obj) else obj}")
                    sep = " ;\n    "
                out.write(" .\n")
        else:
            for subject, pairs in writer.blocks:
                s = _expand(subject)
                for pred, obj in pairs:
                    out.write(f"{s} {_expand(pred)} "
                              f"{_expand(obj() if callable(obj) else obj)} .\n")


class _Generator:
    def __init__(self, scale: str | int, seed: int) -> None:
        self.total = target_triples(scale)
        self.rng = random.Random(seed)
        key = scale if isinstance(scale, str) and scale in STATES_FOR else None
        n_states = STATES_FOR[key] if key else max(20, min(400, int(self.total ** 0.5)))
        self.states = [s for s, _, _ in REAL_STATES][:n_states]
        self.state_names = {s: name for s, name, _ in REAL_STATES}
        for i in range(len(self.states), n_states):
            slug = f"state-{i:03d}"
            self.states.append(slug)
            self.state_names[slug] = f"State {i:03d}"
        # Zipf-like weights: the first states (the CRINK four, their peers) dominate
        self.weights = [1.0 / (i + 1) ** 0.9 for i in range(n_states)]
        self.cum = []
        acc = 0.0
        for w in self.weights:
            acc += w
            self.cum.append(acc)
        self.sources: list[str] = []
        self.official: set[str] = set()
        self.sentences: dict[str, list[str]] = {}  # news source -> its sentences, in order
        self.texts: dict[str, str] = {}  # news source -> its complete stored text
        self.selectors: dict[tuple[str, str], Selectors] = {}
        self.digests: dict[str, str] = {}
        self.weapons: list[tuple[str, str]] = []
        self.weapon_names: dict[str, str] = {}
        self.wars: list[tuple[str, str, str]] = []
        self.time_nodes: set[str] = set()
        self.anchors = 0
        self.modalities: dict[str, int] = {}

    # -- helpers ---------------------------------------------------------------------------

    def state(self) -> str:
        return self.rng.choices(self.states, cum_weights=self.cum)[0]

    def pair(self) -> tuple[str, str]:
        a = self.state()
        b = self.state()
        while b == a:
            b = self.state()
        return a, b

    def name(self, state: str) -> str:
        return self.state_names[state]

    def pick_sources(self, official_ok: bool = True) -> list[str]:
        k = 1 if self.rng.random() < 0.8 else 2
        picked = self.rng.sample(self.sources, k)
        if not official_ok:
            picked = [s for s in picked if s not in self.official] or \
                [self.rng.choice([s for s in self.sources if s not in self.official])]
        return picked

    def when(self, w: _Writer, source: str) -> tuple[str, str]:
        """A time for a claim: (time spec, words for the sentence)."""
        kind = self.rng.choices([k for k, _ in TIME_MIX], weights=[p for _, p in TIME_MIX])[0]
        if kind == "year":
            y = self.rng.choice(YEARS)
            return f"id:time-year-{y}", f"in {y}"
        tid = f"time-{kind}-{source}"
        if tid not in self.time_nodes:  # written once, beside its first use
            self.time_nodes.add(tid)
            w.node(f"id:{tid}", [
                ("a", "crink:TimeSpec"),
                ("rdfs:label", _lit(f"{kind} at the date of {source}")),
                ("crink:hasPrecision", "crink:precision-relative"),
                ("crink:hasRelativeTime", f"crink:time-{kind}"),
                ("crink:relativeTo", f"id:{source}")])
        return f"id:{tid}", "recently" if kind == "recent" else "at present"

    def day(self, w: _Writer, year: int) -> tuple[str, str]:
        """A day-precision time spec in ``year`` (signings)."""
        month, d = self.rng.randint(1, 12), self.rng.randint(1, 28)
        tid = f"time-{year}-{month:02d}-{d:02d}"
        if tid not in self.time_nodes:
            self.time_nodes.add(tid)
            w.node(f"id:{tid}", [
                ("a", "crink:TimeSpec"), ("rdfs:label", _lit(f"{year}-{month:02d}-{d:02d}")),
                ("crink:hasPrecision", "crink:precision-day"),
                ("crink:year", _typed(str(year), "integer")),
                ("crink:earliest", _typed(f"{year}-{month:02d}-{d:02d}T00:00:00Z", "dateTime")),
                ("crink:latest", _typed(f"{year}-{month:02d}-{d:02d}T23:59:59Z", "dateTime"))])
        return f"id:{tid}", f"on {year}-{month:02d}-{d:02d}"

    def modality(self, mix: str, actors: list[str]) -> tuple[str, str | None]:
        """(modality, the actor whose perception or warning it is, or None)."""
        table = MODALITY_MIX[mix]
        m = self.rng.choices([k for k, _ in table], weights=[p for _, p in table])[0]
        according = None
        if m == "warning" or (m == "perception" and self.rng.random() < 0.5):
            according = self.rng.choice(actors)
        return m, according

    def claim(self, w: _Writer, local: str, pairs: list[tuple[str, str]], core: str,
              sources: list[str], *, modality: str | None = "asserted",
              according: str | None = None) -> None:
        """Write a claim node: its pairs, sources, modality, and one anchored sentence in
        each of its sources' stored texts (``core`` is the claim in words)."""
        if modality == "perception":
            core = (f"in the view of {self.name(according)}, {core}" if according
                    else f"it is seen as likely that {core}")
        elif modality == "warning":
            core = f"{self.name(according)} warns that {core}"
        elif modality == "qualified":
            core = f"to some extent, {core}"
        sentence = f"{core[0].upper()}{core[1:]} [{local}]."
        passages: list[tuple[str, str, str]] = []
        pairs = list(pairs)
        for k, src in enumerate(sources):
            if src in self.official:
                continue
            label = f"_:{local}-p{k}"
            self.sentences[src].append(sentence)
            passages.append((label, src, sentence))
            pairs.append(("crink:statedIn", label))
        if modality is not None:
            pairs.append(("crink:hasModality", f"crink:modality-{modality}"))
            self.modalities[modality] = self.modalities.get(modality, 0) + 1
        if according is not None:
            pairs.append(("crink:accordingTo", f"id:{according}"))
        pairs += [("prov:wasDerivedFrom", f"id:{s}") for s in sources]
        w.node(f"id:{local}", pairs)
        w.claims += 1
        for label, src, exact in passages:
            self.anchors += 1
            key = (src, exact)
            w.node(label, [("a", "oa:SpecificResource"), ("oa:hasSource", f"id:{src}"),
                           ("oa:hasSelector", f"{label}-quote"),
                           ("oa:hasSelector", f"{label}-position")])
            w.node(f"{label}-quote", [
                ("a", "oa:TextQuoteSelector"), ("oa:exact", _lit(exact, None)),
                ("oa:prefix", lambda key=key: _lit(self.selectors[key].prefix, None)),
                ("oa:suffix", lambda key=key: _lit(self.selectors[key].suffix, None))])
            w.node(f"{label}-position", [
                ("a", "oa:TextPositionSelector"),
                ("oa:start", lambda key=key: _typed(str(self.selectors[key].start), "integer")),
                ("oa:end", lambda key=key: _typed(str(self.selectors[key].end), "integer"))])

    # -- sources and their texts --------------------------------------------------------------

    def sources_file(self, n_sources: int) -> _Writer:
        w = _Writer("sources", "crinkkg bench: sources, times, weapon systems")
        for y in YEARS:
            w.node(f"id:time-year-{y}", [
                ("a", "crink:TimeSpec"), ("rdfs:label", _lit(str(y))),
                ("crink:hasPrecision", "crink:precision-year"),
                ("crink:year", _typed(str(y), "integer")),
                ("crink:earliest", _typed(f"{y}-01-01T00:00:00Z", "dateTime")),
                ("crink:latest", _typed(f"{y}-12-31T23:59:59Z", "dateTime"))])
        for p in PUBLISHERS:
            w.node(f"id:{p}", [("a", "prov:Organization"),
                                ("rdfs:label", _lit(p.replace("-", " ").title()))])
        for i in range(n_sources):
            sid = f"source-{i:05d}"
            self.sources.append(sid)
            official = self.rng.random() < OFFICIAL_SHARE
            y = self.rng.choice(YEARS)
            pairs: list[tuple[str, str | Deferred]] = [
                ("a", "crink:OfficialDocument" if official else "crink:NewsArticle"),
                ("rdfs:label", _lit(f"Source {i:05d} ({y})")),
                ("dcterms:title", _lit(f"Report {i:05d} on strategic alignments")),
                ("crink:hasTime", f"id:time-year-{y}"),
                ("crink:hasAttributionMethod",
                 "crink:attribution-public-record" if official
                 else "crink:attribution-stated")]
            if official:
                self.official.add(sid)
            else:
                self.sentences[sid] = []
                pairs += [("dcterms:publisher", f"id:{self.rng.choice(PUBLISHERS)}"),
                          ("crink:storedText", _lit(f"texts/{sid}.txt", None)),
                          ("crink:sha256", lambda sid=sid: _lit(self.digests[sid], None))]
            w.node(f"id:{sid}", pairs)
            w.claims += 1  # counted as the file's entities: sources, not claims
        if not self.official:  # signings need one document of public record
            self.official.add(self.sources[-1])
        # weapon systems: a small controlled vocabulary of its own
        w.node("id:weapon-systems", [("a", "skos:ConceptScheme"),
                                      ("rdfs:label", _lit("Weapon systems (synthetic)"))])
        for family, kind in WEAPON_FAMILIES:
            for n in range(1, 6):
                wid = f"weapon-{family.lower().rstrip('-')}-{n * 17}"
                self.weapons.append((wid, kind))
                self.weapon_names[wid] = f"{family}{n * 17}"
                w.node(f"id:{wid}", [("a", "crink:WeaponSystem"),
                                      ("rdfs:label", _lit(f"{family}{n * 17}")),
                                      ("skos:prefLabel", _lit(f"{family}{n * 17}")),
                                      ("skos:broadMatch", f"crink:{kind}"),
                                      ("skos:inScheme", "id:weapon-systems")])
        return w

    def finish_texts(self) -> None:
        """Compose each news source's text from its sentences; then every selector and
        digest is known. Positions count Unicode code points: the header has some outside
        ASCII, so a byte offset would not do."""
        for sid, sentences in self.sentences.items():
            n = int(sid.rsplit("-", 1)[1])
            parts = [f"Report {n:05d} on strategic alignments \u2014 the crinkkg benchmark\u2019s "
                     f"synthetic source text\n"]
            for i in range(0, len(sentences), 4):
                parts.append("\n" + " ".join(sentences[i:i + 4]) + "\n")
            text = "".join(parts)
            self.texts[sid] = text
            self.digests[sid] = hashlib.sha256(text.encode("utf-8")).hexdigest()
            for exact in sentences:
                self.selectors[(sid, exact)] = selectors_for(text, exact)

    # -- themes ----------------------------------------------------------------------------

    def states_file(self) -> _Writer:
        w = _Writer("states", "crinkkg bench: states and groupings")
        qids = {s: q for s, _, q in REAL_STATES}
        for i, s in enumerate(self.states):
            qid = qids.get(s, f"Q{900000 + i}")
            w.node(f"id:{s}", [("a", "crink:State"), ("rdfs:label", _lit(self.name(s))),
                               ("skos:exactMatch", f"wd:{qid}")])
        # groupings are actors, not situations: sources and passages, no modality
        members = self.states[:4]
        self.claim(w, "crink", [("a", "crink:Grouping"), ("rdfs:label", _lit("CRINK")),
                                ("skos:altLabel", _lit("Axis of Upheaval"))]
                   + [("crink:hasMember", f"id:{m}") for m in members],
                   ", ".join(self.name(m) for m in members[:-1])
                   + f" and {self.name(members[-1])} form the CRINK grouping",
                   self.pick_sources(official_ok=False), modality=None)
        n_groupings = max(2, len(self.states) // 40)
        for g in range(n_groupings):
            size = self.rng.randint(3, 8)
            picked = sorted({self.state() for _ in range(size)})
            while len(picked) < 2:
                picked = sorted(set(picked) | {self.state()})
            names = [self.name(s) for s in picked]
            self.claim(w, f"grouping-{g:03d}",
                       [("a", "crink:Grouping"), ("rdfs:label", _lit(f"Grouping {g:03d}"))]
                       + [("crink:hasMember", f"id:{s}") for s in picked],
                       ", ".join(names[:-1]) + f" and {names[-1]} form Grouping {g:03d}",
                       self.pick_sources(), modality=None)
        return w

    def transfers_file(self, budget: int) -> _Writer:
        w = _Writer("transfers", "crinkkg bench: transfers")
        kinds = TRANSFER_KINDS
        cum = []
        acc = 0
        for k in kinds:
            acc += k[4]
            cum.append(acc)
        i = 0
        while w.count < budget:
            cls, sp, rp, items, _ = self.rng.choices(kinds, cum_weights=cum)[0]
            a, b = self.pair()
            item = self.rng.choice(items)
            status = self.rng.choice(TRANSFER_STATUSES)
            sources = self.pick_sources()
            time, when = self.when(w, sources[0])
            local = f"transfer-{i:06d}"
            pairs = [("a", f"crink:{cls}"),
                     ("rdfs:label", _lit(f"{cls} {i:06d}: {self.name(a)} to {self.name(b)}")),
                     (f"crink:{sp}", f"id:{a}"), (f"crink:{rp}", f"id:{b}"),
                     ("crink:hasItemKind", f"crink:{item}"),
                     ("crink:hasStatus", f"crink:{status}"),
                     ("crink:hasTime", time)]
            verb = "delivered" if status == "status-delivered" else "keeps delivering"
            A, B = self.name(a), self.name(b)
            if cls in ARMS:
                fitting = [wid for wid, k in self.weapons if k == item] or \
                    [wid for wid, _ in self.weapons]
                weapon = self.rng.choice(fitting)
                pairs.append(("crink:hasWeaponSystem", f"id:{weapon}"))
                core = f"{A} {verb} {self.weapon_names[weapon]} {ITEM_WORDS[item]} to {B} {when}"
            elif cls == "OilSale":
                discounted = self.rng.random() < 0.6
                pairs.append(("crink:terms", "crink:terms-discounted" if discounted
                              else "crink:terms-major-buyer"))
                core = (f"{A} sold oil to {B} at a discount {when}" if discounted
                        else f"{B} bought oil from {A} as a major buyer {when}")
            elif cls == "TroopDeployment" and self.wars:
                war = self.rng.choice(self.wars)[0]
                pairs.append(("crink:inConflict", f"id:{war}"))
                core = f"{A} sent troops to fight alongside {B}\u2019s forces in {war} {when}"
            elif cls == "TroopDeployment":
                core = f"{A} sent troops to fight alongside {B}\u2019s forces {when}"
            elif cls == "IntelligenceSupport":
                core = f"{A} shared intelligence with {B} {when}"
            elif cls == "IndustrialSupport":
                core = f"{A} helped rebuild {B}\u2019s defence industry {when}"
            else:
                core = f"{A} invested in {B}\u2019s economy {when}"
            modality, according = self.modality("transfer", self.states)
            self.claim(w, local, pairs, core, sources, modality=modality, according=according)
            i += 1
        return w

    def alignments_file(self, budget: int) -> _Writer:
        w = _Writer("alignments", "crinkkg bench: treaties and partnerships")
        i = 0
        while w.count < budget:
            a, b = self.pair()
            A, B = self.name(a), self.name(b)
            sources = self.pick_sources()
            if self.rng.random() < 0.4:
                y = self.rng.choice(YEARS)
                tid = f"treaty-{i:05d}"
                self.claim(w, tid, [("a", "crink:AllianceTreaty"),
                                    ("rdfs:label", _lit(f"Treaty {i:05d} ({y})")),
                                    ("crink:firstAlly", f"id:{a}"),
                                    ("crink:secondAlly", f"id:{b}"),
                                    ("crink:hasTime", f"id:time-year-{y}")],
                           f"{A} and {B} signed Treaty {i:05d}, an alliance, in {y}", sources)
                # what the treaty obliges its parties to: one node per provision
                for n, ob in enumerate(self.rng.sample(OBLIGATIONS, self.rng.randint(1, 2))):
                    article = n + 1 + self.rng.randint(0, 3) * 2
                    word = ob.split("-", 1)[1].replace("-", " ")
                    self.claim(w, f"{tid}-article-{article}", [
                        ("a", "crink:TreatyProvision"),
                        ("rdfs:label", _lit(f"Article {article} of Treaty {i:05d}: {word}")),
                        ("crink:provisionOf", f"id:{tid}"),
                        ("crink:articleNumber", _typed(str(article), "integer")),
                        ("crink:obligation", f"crink:{ob}")],
                        f"article {article} of Treaty {i:05d} between {A} and {B} sets a "
                        f"{word} obligation", sources)
                if self.rng.random() < 0.4:  # the signing's day, on public record
                    time, on = self.day(w, y)
                    record = self.rng.choice(sorted(self.official))
                    self.claim(w, f"{tid}-signing", [
                        ("a", "crink:Signing"),
                        ("rdfs:label", _lit(f"Signing of Treaty {i:05d}")),
                        ("crink:signingOf", f"id:{tid}"), ("crink:hasTime", time)],
                        f"Treaty {i:05d} was signed {on}", [record])
            else:
                time, when = self.when(w, sources[0])
                kind = self.rng.choice(ALIGNMENT_KINDS)
                areas = self.rng.sample(AREAS, self.rng.randint(1, 3))
                pairs = [("a", "crink:Partnership"),
                         ("rdfs:label", _lit(f"Partnership {i:05d}")),
                         ("crink:firstParty", f"id:{a}"), ("crink:secondParty", f"id:{b}"),
                         ("crink:hasAlignmentKind", f"crink:{kind}"),
                         ("crink:hasTime", time)]
                pairs += [("crink:hasCooperationArea", f"crink:{c}") for c in areas]
                core = (f"{A} and {B} cooperate ({kind.split('-', 1)[1].replace('-', ' ')}) "
                        f"in {', '.join(c.split('-', 1)[1] for c in areas)} matters {when}")
                if self.rng.random() < 0.2:
                    trend = self.rng.choice(TRENDS)
                    pairs.append(("crink:hasTrend", f"crink:{trend}"))
                    core += f", a relationship that is {trend.split('-', 1)[1]}"
                modality, according = self.modality("partnership", [a, b] + self.states[:7])
                self.claim(w, f"partnership-{i:05d}", pairs, core, sources,
                           modality=modality, according=according)
            i += 1
        return w

    def conflicts_file(self, budget: int) -> _Writer:
        w = _Writer("conflicts", "crinkkg bench: wars and strikes")
        n_wars = max(3, budget // 600)
        for i in range(n_wars):
            a, b = self.pair()
            wid = f"war-{i:04d}"
            self.wars.append((wid, a, b))
            sources = self.pick_sources()
            time, when = self.when(w, sources[0])
            pairs = [("a", "crink:War"), ("rdfs:label", _lit(f"War {i:04d}")),
                     ("crink:belligerent", f"id:{a}"), ("crink:belligerent", f"id:{b}"),
                     ("crink:hasTime", time)]
            observers = sorted({self.state() for _ in range(2)} - {a, b})
            pairs += [("crink:observer", f"id:{s}") for s in observers]
            core = f"{self.name(a)} and {self.name(b)} are at war ({wid}) {when}"
            if observers:
                core += ", watched by " + " and ".join(self.name(s) for s in observers)
            self.claim(w, wid, pairs, core, sources)
        i = 0
        while w.count < budget:
            wid, a, b = self.rng.choice(self.wars)
            if self.rng.random() < 0.5:
                a, b = b, a
            sources = self.pick_sources()
            time, when = self.when(w, sources[0])
            asset = self.rng.choice(ASSETS)
            extent = self.rng.choice(["limited", "moderate", "severe", "destroyed"])
            pairs = [("a", "crink:Strike"), ("rdfs:label", _lit(f"Strike {i:06d}")),
                     ("crink:attacker", f"id:{a}"), ("crink:target", f"id:{b}"),
                     ("crink:inConflict", f"id:{wid}"),
                     ("crink:damagedAsset", f"crink:{asset}"),
                     ("crink:damageExtent", _lit(extent, None)),
                     ("crink:hasTime", time)]
            core = (f"{self.name(a)} struck {self.name(b)}\u2019s "
                    f"{asset.split('-', 1)[1].replace('-', ' ')} in {wid} {when}, "
                    f"with {extent} damage")
            modality, according = self.modality("strike", [a, b])
            self.claim(w, f"strike-{i:06d}", pairs, core, sources, modality=modality,
                       according=according)
            i += 1
        return w

    def requests_file(self, budget: int) -> _Writer:
        w = _Writer("requests", "crinkkg bench: requests")
        i = 0
        while w.count < budget:
            a, b = self.pair()
            sources = self.pick_sources()
            time, when = self.when(w, sources[0])
            if self.rng.random() < 0.75:
                wid, kind = self.rng.choice(self.weapons)
                pairs = [("a", "crink:ArmsRequest"), ("crink:hasWeaponSystem", f"id:{wid}"),
                         ("crink:hasItemKind", f"crink:{kind}")]
                what = f"{self.weapon_names[wid]} {ITEM_WORDS[kind]}"
            else:
                pairs = [("a", "crink:InvestmentRequest"),
                         ("crink:hasItemKind", "crink:kind-investment")]
                what = "investment"
            status = self.rng.choice(["status-requested-not-delivered", "status-refused",
                                      "status-limited"])
            pairs += [("rdfs:label", _lit(f"Request {i:05d}")),
                      ("crink:requester", f"id:{a}"), ("crink:requestedFrom", f"id:{b}"),
                      ("crink:hasStatus", f"crink:{status}"), ("crink:hasTime", time)]
            outcome = {"status-requested-not-delivered": "did not get it",
                       "status-refused": "was refused",
                       "status-limited": "got little"}[status]
            core = f"{self.name(a)} sought {what} from {self.name(b)} {when} but {outcome}"
            modality, according = self.modality("request", [a, b])
            self.claim(w, f"request-{i:05d}", pairs, core, sources, modality=modality,
                       according=according)
            i += 1
        return w

    def stances_file(self, budget: int) -> _Writer:
        w = _Writer("stances", "crinkkg bench: stances and limitations")
        i = 0
        while w.count < budget:
            a, b = self.pair()
            A, B = self.name(a), self.name(b)
            sources = self.pick_sources()
            time, when = self.when(w, sources[0])
            r = self.rng.random()
            modality, according = "asserted", None
            if r < 0.35:
                unconditional = self.rng.random() < 0.3
                pairs = [("a", "crink:Pledge"), ("crink:holder", f"id:{a}"),
                         ("crink:beneficiary", f"id:{b}"),
                         ("crink:isUnconditional",
                          _typed("true" if unconditional else "false", "boolean"))]
                core = (f"{A} pledges {'unconditional ' if unconditional else ''}support "
                        f"for {B} {when}")
                modality, according = self.modality("pledge", [a, b])
            elif r < 0.65:
                action = self.rng.choice(list(ACTIONS))
                pairs = [("a", "crink:Restraint"), ("crink:holder", f"id:{a}"),
                         ("crink:counterpart", f"id:{b}"),
                         ("crink:restrainedAction", f"crink:{action}"),
                         ("crink:hasStatus", "crink:status-withheld")]
                core = f"{A} has chosen not to {ACTIONS[action]} {B} {when}"
            elif r < 0.80 and self.wars:
                war = self.rng.choice(self.wars)[0]
                pairs = [("a", "crink:Warning"), ("crink:holder", f"id:{a}"),
                         ("crink:concerns", f"id:{war}"), ("crink:inConflict", f"id:{war}")]
                core = f"the fighting in {war} may spread to {B} {when}"
                modality, according = "warning", a
            else:
                action = self.rng.choice(list(ACTIONS))
                pairs = [("a", "crink:Limitation"), ("crink:limitedActor", f"id:{a}"),
                         ("crink:limitedAction", f"crink:{action}"),
                         ("crink:concerns", f"id:{b}")]
                core = (f"{A} is limited in its capacity or willingness to "
                        f"{ACTIONS[action]} {B} {when}")
                modality = "capacity-or-will"
            pairs += [("rdfs:label", _lit(f"Stance {i:05d}")), ("crink:hasTime", time)]
            self.claim(w, f"stance-{i:05d}", pairs, core, sources, modality=modality,
                       according=according)
            i += 1
        return w


def generate(out_dir: Path | str, scale: str | int = "5k", *, seed: int = 0,
             fmt: str = "ttl") -> Generated:
    """Write synthetic data files and their stored texts into ``out_dir`` (replacing any
    earlier ones there).

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> g = generate(d, 1000, seed=3)
    >>> 1000 <= g.triples < 1200, sorted(g.files)[0]
    (True, 'alignments.ttl')
    """
    if fmt not in ("ttl", "nt"):
        raise ValueError("fmt must be 'ttl' or 'nt'")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("*.ttl")) + list(out.glob("*.nt")) + \
            list(out.glob("texts/source-*.txt")):
        old.unlink()
    gen = _Generator(scale, seed)
    total = gen.total
    writers: dict[str, _Writer] = {}
    # sources first (claims cite them); their texts and digests are filled in at the end
    writers["sources"] = gen.sources_file(max(20, total // TRIPLES_PER_SOURCE))
    writers["states"] = gen.states_file()
    remaining = max(0, total - writers["states"].count - writers["sources"].count)
    # conflicts first: troop deployments and warnings refer to wars
    order = ["conflicts", "transfers", "alignments", "requests", "stances"]
    shares = dict(THEMES)
    norm = sum(shares.values())
    for theme in order:
        budget = int(remaining * shares[theme] / norm)
        writers[theme] = getattr(gen, f"{theme}_file")(budget)
    gen.finish_texts()
    texts = out / "texts"
    texts.mkdir(exist_ok=True)
    for sid, text in gen.texts.items():
        (texts / f"{sid}.txt").write_bytes(text.encode("utf-8"))
    name = "synthetic scale" if isinstance(scale, int) else f"synthetic scale {scale}"
    result = Generated(scale=str(scale), seed=seed, fmt=fmt, triples=0, texts=len(gen.texts),
                       anchors=gen.anchors, modalities=dict(sorted(gen.modalities.items())))
    for theme, writer in writers.items():
        filename = f"{theme}.{fmt}"
        _write(out / filename, writer, fmt, f"crinkkg bench: {name}, seed {seed}, {theme}")
        result.files[filename] = writer.count
        result.triples += writer.count
        result.entities[theme] = writer.claims
    n_transfers = result.entities["transfers"]
    ranked = gen.states
    result.sample = {
        "transfer": f"{ID}transfer-{n_transfers // 2:06d}",
        "state_hub": f"{ID}{ranked[0]}",
        "state_mid": f"{ID}{ranked[min(len(ranked) - 1, len(ranked) // 4)]}",
        "state_ally": f"{ID}{ranked[3]}",
    }
    (out / "generated.json").write_text(json.dumps(result.as_dict(), indent=2))
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="5k", help="1k, 5k, 50k, 500k or a number of triples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", dest="fmt", choices=["ttl", "nt"], default="ttl")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    scale = int(args.scale) if args.scale.isdigit() else args.scale
    print(json.dumps(generate(args.out, scale, seed=args.seed, fmt=args.fmt).as_dict(), indent=2))


if __name__ == "__main__":
    main()
