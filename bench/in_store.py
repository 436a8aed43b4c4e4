"""Time and peak memory of in-store OWL 2 RL reasoning (``crinkkg.reasoning.in_store``) against a
running SPARQL store, at the scale of a synthetic graph.

Two steps, each its own process, so that the reasoning process's peak RSS is its own (the
data never passes through it)::

    python -m bench.in_store load   --data /tmp/synth-50k --gsp URL --kind oxigraph|virtuoso
    python -m bench.in_store reason --data /tmp/synth-50k --query URL [--update URL]

``--gsp`` is the store's Graph Store Protocol URL (Oxigraph: ``http://HOST/store``, graph in
``?graph=``; Virtuoso: ``http://HOST/sparql-graph-crud``, graph in ``?graph-uri=``). ``reason``
prints one JSON line: seconds, updates sent, inferred triples, inconsistencies, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
from pathlib import Path

import requests

from crinkkg.backends.endpoints import Endpoints
from crinkkg.backends.remote import ClientStore
from crinkkg.backends.sparql_client import SparqlClient
from crinkkg.reasoning import in_store

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/crinkkg/"
INFERRED = BASE + "graph/inferred"


def _files(data: Path) -> list[tuple[str, Path]]:
    """(graph IRI, file) of the ontology and of each data file, named as the build names
    them."""
    from crinkkg.vocab import graph_iri_for

    files = [p for p in sorted((ROOT / "ontology").glob("*.ttl")) if p.name != "shapes.ttl"]
    files += sorted(data.glob("*.ttl")) + sorted(data.glob("*.nt"))
    out = []
    for p in files:
        try:
            rel = p.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            rel = p.name
        out.append((graph_iri_for(rel), p))
    return out


def load(data: Path, gsp: str, kind: str) -> None:
    param = "graph" if kind == "oxigraph" else "graph-uri"
    for graph, path in _files(data):
        fmt = "application/n-triples" if path.suffix == ".nt" else "text/turtle"
        with path.open("rb") as body:
            r = requests.put(gsp, params={param: graph}, data=body,
                             headers={"Content-Type": fmt}, timeout=3600)
        r.raise_for_status()


def reason(data: Path, query: str, update: str | None) -> dict:
    store = ClientStore(SparqlClient(Endpoints(query=query, update=update or ""), timeout=3600))
    result = in_store.reason_in_store(store, [g for g, _ in _files(data)], INFERRED)
    return {"seconds": round(result.seconds, 2), "updates": result.updates,
            "inferred": result.inferred, "inconsistencies": len(result.inconsistencies),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["load", "reason"])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--gsp")
    ap.add_argument("--kind", choices=["oxigraph", "virtuoso"], default="oxigraph")
    ap.add_argument("--query")
    ap.add_argument("--update")
    args = ap.parse_args(argv)
    if args.step == "load":
        load(args.data, args.gsp, args.kind)
    else:
        print(json.dumps(reason(args.data, args.query, args.update)))


if __name__ == "__main__":
    main()
