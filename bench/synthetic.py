"""A seedable, deterministic generator of synthetic data that follows the CRINK ontology.

The shapes mimic the curated graph, scaled up: a few hundred states (the CRINK four and
their peers first, the rest weighted by a Zipf law so that a few states dominate), many
transfers between them as n-ary nodes (drones, missiles, artillery, troops, oil,
intelligence, industrial support, investment: each kind with its own supplier and recipient
sub-properties), alliance treaties and partnerships with two parties, wars with belligerents,
strikes with attacker and target, requests that were not met, pledges and restraints, and
the sources every claim node is derived from (``prov:wasDerivedFrom``).

Nothing is asserted that OWL 2 RL would derive (no ``crink:supplies``, no inverse links):
the inferred graph shows what reasoning adds, as in the curated data.

Output: one file per theme in a folder (Turtle or N-Triples). Only the data is written;
the project's own ``ontology/`` is the TBox of a synthetic build::

    python -m bench.synthetic --scale 50k --seed 1 --out /tmp/synth-50k
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

CRINK = "https://w3id.org/crinkkg/ontology#"
ID = "https://w3id.org/crinkkg/id/"
PREFIXES = {
    "crink": CRINK,
    "id": ID,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "wd": "http://www.wikidata.org/entity/",
}

# named scales: asserted data triples (the ontology adds its own ~1.5k on top)
SCALES = {"1k": 1_000, "5k": 5_000, "50k": 50_000, "500k": 500_000}
STATES_FOR = {"1k": 20, "5k": 60, "50k": 200, "500k": 400}

# The real states first (Wikidata items from the design notes), so that queries can name
# them; the others are synthetic.
REAL_STATES = [
    ("china", "China", "Q148"), ("russia", "Russia", "Q159"), ("iran", "Iran", "Q794"),
    ("north-korea", "North Korea", "Q423"), ("israel", "Israel", "Q801"),
    ("united-states", "United States", "Q30"), ("ukraine", "Ukraine", "Q212"),
]

# transfer class -> (supplier property, recipient property, item kinds)
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
TRANSFER_STATUSES = ["status-delivered", "status-delivered", "status-delivered",
                     "status-ongoing"]  # a transfer is realised (the shapes say so)
OBLIGATIONS = ["obligation-defence", "obligation-offense", "obligation-neutrality",
               "obligation-non-aggression", "obligation-consultation"]
ALIGNMENT_KINDS = ["alignment-formal-military-alliance", "alignment-cooperation-of-convenience",
                   "alignment-close-strategic-ties", "alignment-strategic-but-cautious"]
AREAS = ["area-military", "area-battlefield", "area-intelligence", "area-diplomatic",
         "area-strategic", "area-economic", "area-defence-industry"]
ASSETS = ["asset-air-defences", "asset-nuclear-infrastructure"]
ACTIONS = ["action-arms-transfer", "action-direct-military-involvement",
           "action-military-intervention"]
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
    esc = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{esc}"@{lang}' if lang else f'"{esc}"'


def _typed(value: str, dt: str) -> str:
    return f'"{value}"^^xsd:{dt}'


class _Writer:
    """Collects (subject, predicate, object) in prefixed form, grouped by subject."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, list[tuple[str, str]]]] = []
        self.count = 0

    def node(self, subject: str, pairs: list[tuple[str, str]]) -> None:
        self.blocks.append((subject, pairs))
        self.count += len(pairs)


def _expand(term: str) -> str:
    """Prefixed name or literal with prefixed datatype -> N-Triples term."""
    if term.startswith('"'):
        if "^^" in term:
            lex, dt = term.rsplit("^^", 1)
            return f"{lex}^^{_expand(dt)}"
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
                    out.write(f"{sep}{pred} {obj}")
                    sep = " ;\n    "
                out.write(" .\n")
        else:
            for subject, pairs in writer.blocks:
                s = _expand(subject)
                for pred, obj in pairs:
                    out.write(f"{s} {_expand(pred)} {_expand(obj)} .\n")


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
        self.weapons: list[tuple[str, str]] = []
        self.wars: list[str] = []

    # -- helpers ---------------------------------------------------------------------------

    def state(self) -> str:
        return self.rng.choices(self.states, cum_weights=self.cum)[0]

    def pair(self) -> tuple[str, str]:
        a = self.state()
        b = self.state()
        while b == a:
            b = self.state()
        return a, b

    def derived(self) -> list[tuple[str, str]]:
        k = 1 if self.rng.random() < 0.8 else 2
        return [("prov:wasDerivedFrom", f"id:{s}") for s in self.rng.sample(self.sources, k)]

    def year(self) -> str:
        return _typed(str(self.rng.choice(YEARS)), "gYear")

    # -- themes ----------------------------------------------------------------------------

    def states_file(self) -> _Writer:
        w = _Writer()
        qids = {s: q for s, _, q in REAL_STATES}
        for i, s in enumerate(self.states):
            qid = qids.get(s, f"Q{900000 + i}")
            w.node(f"id:{s}", [("a", "crink:State"), ("rdfs:label", _lit(self.state_names[s])),
                               ("skos:exactMatch", f"wd:{qid}")])
        members = [f"id:{s}" for s in self.states[:4]]
        w.node("id:crink", [("a", "crink:Grouping"), ("rdfs:label", _lit("CRINK")),
                            ("skos:altLabel", _lit("Axis of Upheaval"))]
               + [("crink:hasMember", m) for m in members] + self.derived())
        n_groupings = max(2, len(self.states) // 40)
        for g in range(n_groupings):
            size = self.rng.randint(3, 8)
            picked = sorted({self.state() for _ in range(size)})
            while len(picked) < 2:
                picked = sorted(set(picked) | {self.state()})
            w.node(f"id:grouping-{g:03d}", [("a", "crink:Grouping"),
                                             ("rdfs:label", _lit(f"Grouping {g:03d}"))]
                   + [("crink:hasMember", f"id:{s}") for s in picked] + self.derived())
        return w

    def sources_file(self, n_sources: int) -> _Writer:
        w = _Writer()
        for p in PUBLISHERS:
            w.node(f"id:{p}", [("a", "prov:Organization"),
                                ("rdfs:label", _lit(p.replace("-", " ").title()))])
        for i in range(n_sources):
            sid = f"source-{i:05d}"
            self.sources.append(sid)
            official = self.rng.random() < 0.15
            y = self.rng.choice(YEARS)
            pairs = [("a", "crink:OfficialDocument" if official else "crink:NewsArticle"),
                     ("rdfs:label", _lit(f"Source {i:05d} ({y})")),
                     ("dcterms:title", _lit(f"Report {i:05d} on strategic alignments")),
                     ("dcterms:issued", _typed(str(y), "gYear")),
                     ("crink:hasAttributionMethod",
                      "crink:attribution-public-record" if official
                      else "crink:attribution-stated"),
                     ("crink:attributionScope", _lit("Synthetic claims attributed to this "
                                                     "source by the benchmark generator.",
                                                     None))]
            if not official:
                pairs.append(("dcterms:publisher", f"id:{self.rng.choice(PUBLISHERS)}"))
            w.node(f"id:{sid}", pairs)
        # weapon systems: a small controlled vocabulary of its own
        w.node("id:weapon-systems", [("a", "skos:ConceptScheme"),
                                      ("rdfs:label", _lit("Weapon systems (synthetic)"))])
        for family, kind in WEAPON_FAMILIES:
            for n in range(1, 6):
                wid = f"weapon-{family.lower().rstrip('-')}-{n * 17}"
                self.weapons.append((wid, kind))
                w.node(f"id:{wid}", [("a", "crink:WeaponSystem"),
                                      ("rdfs:label", _lit(f"{family}{n * 17}")),
                                      ("skos:prefLabel", _lit(f"{family}{n * 17}")),
                                      ("skos:inScheme", "id:weapon-systems")])
        return w

    def transfers_file(self, budget: int) -> _Writer:
        w = _Writer()
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
            pairs = [("a", f"crink:{cls}"),
                     ("rdfs:label", _lit(f"{cls} {i:06d}: {self.state_names[a]} to "
                                         f"{self.state_names[b]}")),
                     (f"crink:{sp}", f"id:{a}"), (f"crink:{rp}", f"id:{b}"),
                     ("crink:hasItemKind", f"crink:{item}"),
                     ("crink:hasStatus", f"crink:{self.rng.choice(TRANSFER_STATUSES)}"),
                     ("crink:year", self.year())]
            if cls in ARMS:
                fitting = [wid for wid, k in self.weapons if k == item] or \
                    [wid for wid, _ in self.weapons]
                pairs.append(("crink:hasWeaponSystem", f"id:{self.rng.choice(fitting)}"))
            if cls == "OilSale":
                pairs.append(("crink:terms", "crink:terms-discounted"
                              if self.rng.random() < 0.6 else "crink:terms-major-buyer"))
            if cls == "TroopDeployment" and self.wars:
                pairs.append(("crink:inConflict", f"id:{self.rng.choice(self.wars)}"))
            w.node(f"id:transfer-{i:06d}", pairs + self.derived())
            i += 1
        return w

    def alignments_file(self, budget: int) -> _Writer:
        w = _Writer()
        i = 0
        while w.count < budget:
            a, b = self.pair()
            if self.rng.random() < 0.4:
                y = self.rng.choice(YEARS)
                date = f"{y}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
                pairs = [("a", "crink:AllianceTreaty"),
                         ("rdfs:label", _lit(f"Treaty {i:05d} ({y})")),
                         ("crink:firstAlly", f"id:{a}"), ("crink:secondAlly", f"id:{b}"),
                         ("crink:signedOn", _typed(date, "date")),
                         ("crink:signedInYear", _typed(str(y), "gYear"))]
                pairs += [("crink:obligation", f"crink:{o}")
                          for o in self.rng.sample(OBLIGATIONS, self.rng.randint(1, 2))]
                w.node(f"id:treaty-{i:05d}", pairs + self.derived())
            else:
                pairs = [("a", "crink:Partnership"),
                         ("rdfs:label", _lit(f"Partnership {i:05d}")),
                         ("crink:firstParty", f"id:{a}"), ("crink:secondParty", f"id:{b}"),
                         ("crink:hasAlignmentKind", f"crink:{self.rng.choice(ALIGNMENT_KINDS)}"),
                         ("crink:year", self.year())]
                pairs += [("crink:hasCooperationArea", f"crink:{c}")
                          for c in self.rng.sample(AREAS, self.rng.randint(1, 3))]
                w.node(f"id:partnership-{i:05d}", pairs + self.derived())
            i += 1
        return w

    def conflicts_file(self, budget: int) -> _Writer:
        w = _Writer()
        n_wars = max(3, budget // 400)
        wars = []
        for i in range(n_wars):
            a, b = self.pair()
            wid = f"war-{i:04d}"
            wars.append((wid, a, b))
            pairs = [("a", "crink:War"), ("rdfs:label", _lit(f"War {i:04d}")),
                     ("crink:belligerent", f"id:{a}"), ("crink:belligerent", f"id:{b}"),
                     ("crink:year", self.year())]
            observers = sorted({self.state() for _ in range(2)} - {a, b})
            pairs += [("crink:observer", f"id:{s}") for s in observers]
            w.node(f"id:{wid}", pairs + self.derived())
        self.wars = [wid for wid, _, _ in wars]
        i = 0
        while w.count < budget:
            wid, a, b = self.rng.choice(wars)
            if self.rng.random() < 0.5:
                a, b = b, a
            pairs = [("a", "crink:Strike"), ("rdfs:label", _lit(f"Strike {i:06d}")),
                     ("crink:attacker", f"id:{a}"), ("crink:target", f"id:{b}"),
                     ("crink:inConflict", f"id:{wid}"),
                     ("crink:damagedAsset", f"crink:{self.rng.choice(ASSETS)}"),
                     ("crink:damageExtent", _lit(self.rng.choice(
                         ["limited", "moderate", "severe", "destroyed"]), None)),
                     ("crink:year", self.year())]
            w.node(f"id:strike-{i:06d}", pairs + self.derived())
            i += 1
        return w

    def requests_file(self, budget: int) -> _Writer:
        w = _Writer()
        i = 0
        while w.count < budget:
            a, b = self.pair()
            if self.rng.random() < 0.75:
                wid, kind = self.rng.choice(self.weapons)
                pairs = [("a", "crink:ArmsRequest"), ("crink:hasWeaponSystem", f"id:{wid}"),
                         ("crink:hasItemKind", f"crink:{kind}")]
            else:
                pairs = [("a", "crink:InvestmentRequest"),
                         ("crink:hasItemKind", "crink:kind-investment")]
            pairs += [("rdfs:label", _lit(f"Request {i:05d}")),
                      ("crink:requester", f"id:{a}"), ("crink:requestedFrom", f"id:{b}"),
                      ("crink:hasStatus", "crink:" + self.rng.choice(
                          ["status-requested-not-delivered", "status-refused",
                           "status-limited"])),
                      ("crink:year", self.year())]
            w.node(f"id:request-{i:05d}", pairs + self.derived())
            i += 1
        return w

    def stances_file(self, budget: int) -> _Writer:
        w = _Writer()
        i = 0
        while w.count < budget:
            a, b = self.pair()
            if self.rng.random() < 0.5:
                pairs = [("a", "crink:Pledge"), ("crink:holder", f"id:{a}"),
                         ("crink:beneficiary", f"id:{b}"),
                         ("crink:isUnconditional",
                          _typed("true" if self.rng.random() < 0.3 else "false", "boolean"))]
            else:
                pairs = [("a", "crink:Restraint"), ("crink:holder", f"id:{a}"),
                         ("crink:counterpart", f"id:{b}"),
                         ("crink:restrainedAction", f"crink:{self.rng.choice(ACTIONS)}"),
                         ("crink:hasStatus", "crink:status-withheld")]
            pairs += [("rdfs:label", _lit(f"Stance {i:05d}")), ("crink:year", self.year())]
            w.node(f"id:stance-{i:05d}", pairs + self.derived())
            i += 1
        return w


def generate(out_dir: Path | str, scale: str | int = "5k", *, seed: int = 0,
             fmt: str = "ttl") -> Generated:
    """Write synthetic data files into ``out_dir`` (replacing any earlier ones there).

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
    for old in list(out.glob("*.ttl")) + list(out.glob("*.nt")):
        old.unlink()
    gen = _Generator(scale, seed)
    total = gen.total
    writers: dict[str, _Writer] = {}
    # about one source per 60 triples of claims, at least 20; sources first: claims cite them
    writers["sources"] = gen.sources_file(max(20, total // 60))
    writers["states"] = gen.states_file()
    remaining = max(0, total - writers["states"].count - writers["sources"].count)
    # conflicts first: troop deployments refer to wars
    order = ["conflicts", "transfers", "alignments", "requests", "stances"]
    shares = dict(THEMES)
    norm = sum(shares.values())
    for theme in order:
        budget = int(remaining * shares[theme] / norm)
        writers[theme] = getattr(gen, f"{theme}_file")(budget)
    name = "synthetic scale" if isinstance(scale, int) else f"synthetic scale {scale}"
    result = Generated(scale=str(scale), seed=seed, fmt=fmt, triples=0)
    for theme, writer in writers.items():
        filename = f"{theme}.{fmt}"
        _write(out / filename, writer, fmt, f"crinkkg bench: {name}, seed {seed}, {theme}")
        result.files[filename] = writer.count
        result.triples += writer.count
        result.entities[theme] = len(writer.blocks)
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
