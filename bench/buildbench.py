"""Build measurements, each run in a child process of its own so that memory figures are
not polluted by the harness or by an earlier step.

Modes (``python -m bench.buildbench MODE --ontology O --data D --store S``; prints JSON):

- ``build``: ``crinkkg.build.build(force=True)``; wall time per step from the build report,
  peak RSS per step (``VmHWM``, reset at each step's start through ``/proc/self/clear_refs``,
  so it counts the Rust allocations of pyoxigraph too, not only Python's).
- ``owlrl``: the baseline, plain ``owlrl.DeductiveClosure(OWLRL_Semantics).expand(g)`` over the
  same asserted triples the build reasons over (parse not timed); with ``--check``, the
  reference inferred triples (owlrl + the documented clean-up, ``crinkkg.reasoning.clean``)
  are compared with the store's inferred graph and, when it exists, with
  ``crinkkg.reasoning.rules.reason``.
- ``rules``: ``crinkkg.reasoning.rules.reason`` alone (the fast path), time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False where that is impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float | None:
    kb = _status_kb("VmHWM")
    if kb is None:
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024, 1)


def rss_mb() -> float | None:
    kb = _status_kb("VmRSS")
    return None if kb is None else round(kb / 1024, 1)


def _settings(args):
    from crinkkg.settings import Settings
    return Settings(ontology_dir=Path(args.ontology), data_dir=Path(args.data),
                    store=Path(args.store))


def _asserted(args):
    """The asserted rdflib graph, loaded exactly as the build loads it."""
    from crinkkg.build.pipeline import _graphs
    from crinkkg.inputs.loading import load_inputs

    settings = _settings(args)
    sources = load_inputs(settings.ontology_dir, settings.data_dir,
                          base_iri=settings.base_iri, root=Path(args.root))
    asserted, _shapes, _ontology = _graphs(sources)
    return asserted


def run_build(args) -> dict:
    from crinkkg.build.pipeline import build

    steps: dict[str, dict] = {}

    def progress(step: str, message: str) -> None:
        if message == "...":
            reset_peak()
            steps[step] = {"rss_before_mb": rss_mb(), "t0": time.perf_counter()}
        elif step in steps and "peak_rss_mb" not in steps[step]:
            steps[step]["peak_rss_mb"] = peak_mb()
            steps[step]["wall_s"] = round(time.perf_counter() - steps[step].pop("t0"), 4)

    t0 = time.perf_counter()
    report = build(_settings(args), force=True, progress=progress, root=Path(args.root))
    wall = time.perf_counter() - t0
    out = report.as_dict()
    for s in out["steps"]:
        s.update(steps.get(s["name"], {}))
    out["wall_s"] = round(wall, 4)
    out["peak_rss_mb"] = max((s.get("peak_rss_mb") or 0) for s in out["steps"]) \
        if out["steps"] else peak_mb()
    return out


def run_build_unvalidated(args) -> dict:
    """The same build with the SHACL step replaced by a no-op: only to get a store to serve
    when the real build cannot finish in the time budget (the report says so)."""
    import crinkkg.build.pipeline as build_module

    build_module.validate = lambda *_a, **_k: []
    out = run_build(args)
    out["validation_skipped"] = True
    return out


def _nt(triples) -> set[str]:
    """rdflib triples -> canonical N-Triples lines (through Oxigraph's serialiser)."""
    from crinkkg.terms import to_oxigraph
    return {f"{to_oxigraph(s)} {to_oxigraph(p)} {to_oxigraph(o)}" for s, p, o in triples}


def _store_inferred(store_link: Path) -> set[str] | None:
    import pyoxigraph as ox

    from crinkkg.store.layout import StoreLayout
    from crinkkg.vocab import INFERRED_GRAPH

    layout = StoreLayout(store_link)
    if layout.current() is None:
        return None
    st = ox.Store.read_only(str(layout.db()))
    g = ox.NamedNode(str(INFERRED_GRAPH))
    return {f"{q.subject} {q.predicate} {q.object}"
            for q in st.quads_for_pattern(None, None, None, g)}


def _diff(reference: set[str], other: set[str], label: str) -> dict:
    missing = reference - other
    extra = other - reference
    # blank nodes are renamed by every path: compare those by count only
    missing_named = {t for t in missing if "_:" not in t}
    extra_named = {t for t in extra if "_:" not in t}
    bn_ref = sum(1 for t in reference if "_:" in t)
    bn_other = sum(1 for t in other if "_:" in t)
    equal = not missing_named and not extra_named and bn_ref == bn_other
    return {"against": label, "equal": equal, "reference": len(reference),
            "other": len(other), "missing": len(missing_named), "extra": len(extra_named),
            "blank_node_triples": [bn_ref, bn_other],
            "missing_sample": sorted(missing_named)[:5], "extra_sample": sorted(extra_named)[:5]}


def run_owlrl(args) -> dict:
    import owlrl
    from rdflib import Graph

    asserted = _asserted(args)
    closure = Graph()
    for t in asserted:
        closure.add(t)
    reset_peak()
    base_rss = rss_mb()
    t0 = time.perf_counter()
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    seconds = time.perf_counter() - t0
    out = {"asserted_triples": len(asserted), "closure_triples": len(closure),
           "seconds": round(seconds, 4), "peak_rss_mb": peak_mb(), "rss_before_mb": base_rss}
    if args.check:
        from crinkkg.reasoning.owlrl_closure import clean
        t0 = time.perf_counter()
        ref = clean(closure, asserted)
        out["cleanup_seconds"] = round(time.perf_counter() - t0, 4)
        reference = _nt(ref.inferred)
        out["reference_inferred"] = len(reference)
        checks = []
        stored = _store_inferred(Path(args.store))
        if stored is not None:
            checks.append(_diff(reference, stored, "store (crinkkg build)"))
        rules = _rules_module()
        if rules is not None:
            del closure
            t0 = time.perf_counter()
            fast = rules.reason(asserted)
            out["rules_seconds"] = round(time.perf_counter() - t0, 4)
            checks.append(_diff(reference, _nt(fast.inferred), "crinkkg.reasoning.rules.reason"))
        out["checks"] = checks
    return out


def _rules_module():
    try:
        import crinkkg.reasoning.rules as rules  # the fast path, when it exists
    except ImportError:
        return None
    return rules if hasattr(rules, "reason") else None


def run_rules(args) -> dict:
    rules = _rules_module()
    if rules is None:
        return {"available": False}
    asserted = _asserted(args)
    reset_peak()
    t0 = time.perf_counter()
    closure = rules.reason(asserted)
    seconds = time.perf_counter() - t0
    return {"available": True, "seconds": round(seconds, 4), "peak_rss_mb": peak_mb(),
            "inferred_triples": len(closure.inferred)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["build", "build-unvalidated", "owlrl", "rules"])
    ap.add_argument("--ontology", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--root", default=os.getcwd())
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    fn = {"build": run_build, "build-unvalidated": run_build_unvalidated, "owlrl": run_owlrl,
          "rules": run_rules}[args.mode]
    try:
        result = fn(args)
        result["ok"] = True
    except Exception as exc:  # noqa: BLE001 - reported to the harness, which goes on
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
