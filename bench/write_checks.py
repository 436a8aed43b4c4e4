"""What holding a write to the build's shapes costs: one SPARQL update on a synthetic store.

Each round applies one update through the embedded update path
(:func:`crinkkg.backends.embedded.worker.apply_versioned_update`: copy the store, run the
update, check, reason, publish a new version) with the check done three ways: not at all
(the update path as it was before writes were checked), in full (every focus node of the
asserted graph), and restricted to the focus nodes the change can affect (the default).
It also times the check alone on the same change. Figures go to stdout as JSON::

    python -m bench.synthetic --scale 50k --seed 1 --out /tmp/synth-50k
    python -m bench.write_checks --data /tmp/synth-50k --store /tmp/store-50k --rounds 5

With ``--remote QUERY UPDATE GRAPH_STORE`` (a running store, e.g. ``oxigraph serve``), the
same update through the remote backend, with its check and without.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from crinkkg.backends.embedded import worker
from crinkkg.build import conformance, updates
from crinkkg.build.pipeline import build
from crinkkg.settings import Settings
from crinkkg.store.layout import StoreLayout

CLAIM = """INSERT DATA {{ GRAPH <https://w3id.org/crinkkg/graph/data/bench-writes> {{
  id:bench-source-{n} a crink:NewsArticle ; rdfs:label "Bench report {n}"@en ;
    dcterms:title "Bench report {n}"@en .
  id:bench-transfer-{n} a crink:DroneTransfer ; rdfs:label "Bench transfer {n}"@en ;
    crink:armsSupplier id:iran ; crink:armsRecipient id:russia ;
    crink:hasItemKind crink:kind-drones ; crink:hasStatus crink:status-delivered ;
    crink:hasModality crink:modality-asserted ; prov:wasDerivedFrom id:bench-source-{n} .
}} }}"""
SOURCELESS = ("INSERT DATA { id:bench-x a crink:ArmsTransfer ; crink:armsSupplier id:china ; "
              "crink:armsRecipient id:russia }")


def _mode(name: str) -> None:
    """Make :func:`crinkkg.build.updates.apply_update` check as ``name`` says."""
    real = conformance.check_state

    def none(quads, shapes, **_kw):
        return []

    def full(quads, shapes, *, data=None, before=None, stores=None):
        return real(quads, shapes, data=data)

    updates.check_state = {"none": none, "full": full, "restricted": real}[name]


def run(data: Path, store: Path, rounds: int) -> dict:
    settings = Settings(ontology_dir=Path("ontology"), data_dir=data, store=store)
    build(settings)
    results: dict = {}
    times: dict[str, list[float]] = {"none": [], "full": [], "restricted": []}
    n = 0
    for _ in range(rounds):  # the modes interleaved: a machine's load weighs on each alike
        for mode, spent in times.items():
            _mode(mode)
            n += 1
            started = time.perf_counter()
            worker.apply_versioned_update(store, CLAIM.format(n=n))
            spent.append(time.perf_counter() - started)
    for mode, spent in times.items():
        results[f"update_ms_{mode}"] = round(statistics.median(spent) * 1000)
    _mode("restricted")
    results.update(check_alone(store, rounds))
    return results


def check_alone(store: Path, rounds: int) -> dict:
    """The check by itself, on the state after one more well-formed claim."""
    import pyoxigraph as ox

    from crinkkg.store.oxigraph import OxigraphStore

    current = StoreLayout(store).current()
    shapes = conformance.read_shapes(current)
    db = OxigraphStore.open(store)
    before_store = ox.Store()
    before = updates.asserted_quads(_copy(db, before_store))
    after_store = ox.Store()
    after_store.extend(before)
    after_store.update(CLAIM.format(n="alone"), prefixes=_prefixes())
    after = updates.asserted_quads(after_store)
    data = updates.rdflib_graph(after)
    out: dict = {"asserted_triples": len(after)}
    for mode in ("full", "restricted"):
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            if mode == "full":
                conformance.check_state(after, shapes, data=data)
            else:
                conformance.check_state(after, shapes, data=data, before=before,
                                        stores=[before_store, after_store])
            times.append(time.perf_counter() - started)
        out[f"check_ms_{mode}"] = round(statistics.median(times) * 1000)
    focus = conformance.focus_of(shapes, before, after, [before_store, after_store])
    out["restricted_focus_nodes"] = None if focus is None else len(focus)
    return out


def run_remote(data: Path, store: Path, rounds: int, endpoints: list[str]) -> dict:
    """The same update through the remote backend, with and without its check, over a
    store at ``endpoints`` (query, update, Graph Store URLs) that it publishes first."""
    from crinkkg.backends.publish import publish, version_of
    from crinkkg.backends.remote import DEFAULT_GRAPH, RemoteBackend, client_for
    from crinkkg.store.oxigraph import OxigraphStore

    query, update, graph_store = endpoints
    settings = Settings(ontology_dir=Path("ontology"), data_dir=data, store=store,
                        backend=query, backend_update=update, backend_graph_store=graph_store,
                        enable_update=True, update_timeout=3600, timeout=3600)
    build(settings)
    layout = StoreLayout(store)
    client = client_for(settings, timeout=3600)
    publish(client, OxigraphStore.open(store), version_of(layout.build_record(),
                                                          str(layout.current())))
    backend = RemoteBackend(settings)
    real = RemoteBackend._check_state
    times: dict[str, list[float]] = {"none": [], "full": []}
    n = 0
    for _ in range(rounds):
        for mode, spent in times.items():
            RemoteBackend._check_state = real if mode == "full" else (lambda _self, _g: None)
            n += 1
            started = time.perf_counter()
            backend.update(CLAIM.format(n=f"remote-{n}"))
            spent.append(time.perf_counter() - started)
    RemoteBackend._check_state = real
    manifest = backend.manifest(fresh=True)
    started = time.perf_counter()
    backend._check_state([(g, g) for g in [*manifest.asserted, DEFAULT_GRAPH]])
    alone = time.perf_counter() - started
    return {**{f"remote_update_ms_{m}": round(statistics.median(v) * 1000)
               for m, v in times.items()}, "remote_check_ms": round(alone * 1000)}


def _copy(db, target):
    target.extend(db.quads())
    return target


def _prefixes() -> dict[str, str]:
    from crinkkg.vocab import PREFIXES

    return PREFIXES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--remote", nargs=3, metavar=("QUERY", "UPDATE", "GRAPH_STORE"),
                    help="time the remote backend's update over this store instead "
                         "(its data is replaced)")
    args = ap.parse_args()
    if args.remote:
        print(json.dumps(run_remote(args.data, args.store, args.rounds, args.remote),
                         indent=2))
    else:
        print(json.dumps(run(args.data, args.store, args.rounds), indent=2))


if __name__ == "__main__":
    main()
