"""The journal of writes: every acknowledged write is recorded (RDF Patch) before it is
published, and a rebuild from the files replays it, whatever made the rebuild happen
(changed inputs, a damaged build record, a missing store link or version folder); what
no longer applies is named, never dropped; the operator folds or discards it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from servers import start_server
from test_build import make_project, run_cli

from crinkkg.backends.changes import journal_feed
from crinkkg.backends.embedded.worker import apply_versioned_update
from crinkkg.build.cache import why_rebuild
from crinkkg.build.fold import discard, fold, net_change
from crinkkg.build.pipeline import build
from crinkkg.build.updates import JournalConflict
from crinkkg.settings import Settings
from crinkkg.store.integrity import StoreDamaged
from crinkkg.store.journal import Journal, JournalDamaged, journal_path
from crinkkg.store.layout import StoreLayout
from crinkkg.store.oxigraph import OxigraphStore

FACTS = "https://w3id.org/crinkkg/graph/data/facts"
OTHER = "http://example.org/notes"
T7 = (f"INSERT DATA {{ GRAPH <{FACTS}> {{ id:t7 a crink:ArmsTransfer ; "
      "crink:supplier id:north-korea ; crink:recipient id:russia } }")
DROP_T1 = f"DELETE WHERE {{ GRAPH <{FACTS}> {{ id:t1 ?p ?o }} }}"
NOTE = f'INSERT DATA {{ GRAPH <{OTHER}> {{ id:t7 rdfs:comment "seen \\"twice\\"\\n"@en }} }}'


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Settings]:
    settings = make_project(tmp_path)
    build(settings, root=tmp_path)
    return tmp_path, settings


def ask(settings: Settings, text: str) -> bool:
    return bool(OxigraphStore.open(settings.store).query(f"ASK {{ {text} }}"))


def touch_inputs(root: Path) -> None:
    """A change to the inputs that changes nothing they say: the store is rebuilt."""
    facts = root / "data" / "facts.ttl"
    facts.write_text(facts.read_text() + "\n# a comment\n")


def three_writes(settings: Settings) -> None:
    """An insert, a delete of file triples, and an insert into a graph no file holds."""
    for update in (T7, DROP_T1, NOTE):
        apply_versioned_update(settings.store, update)


def state(settings: Settings) -> set[str]:
    store = ox.Store.read_only(str(StoreLayout(settings.store).db()))
    return {str(q) for q in store.quads_for_pattern(None, None, None, None)}


def test_each_acknowledged_write_is_one_patch_in_rdf_patch(project) -> None:
    _root, settings = project
    first = apply_versioned_update(settings.store, T7)
    second = apply_versioned_update(settings.store, NOTE)
    text = journal_path(settings.store).read_text()
    patches = Journal(settings.store).patches()
    assert [p.id for p in patches] == [first["patch"], second["patch"]]
    assert patches[0].prev is None and patches[1].prev == patches[0].id
    assert text.count("TX .") == 2 and text.count("TC .") == 2
    assert f"H prev <{patches[0].id}> ." in text
    assert len(patches[0].adds) == 3 and not patches[0].deletes
    assert patches[1].adds[0].object == ox.Literal('seen "twice"\n', language="en")
    # every row reads back as the quad it was written from
    for patch in patches:
        for row, quad in zip([r for r in patch.text().splitlines() if r[:2] in ("A ", "D ")],
                             [*patch.deletes, *patch.adds], strict=True):
            assert list(ox.parse(row[2:], format=ox.RdfFormat.N_QUADS)) == [quad]
    # a write that changes nothing is answered but leaves no patch
    assert apply_versioned_update(settings.store, "DELETE DATA { <http://a> <http://b> 1 }"
                                  )["patch"] is None
    assert len(Journal(settings.store).patches()) == 2
    assert StoreLayout(settings.store).build_record()["journal"] == patches[1].id


def test_a_rebuild_after_changed_inputs_replays_every_write(project) -> None:
    root, settings = project
    three_writes(settings)
    before = state(settings)
    touch_inputs(root)
    assert why_rebuild(settings) == "the inputs changed"
    steps: list[str] = []
    report = build(settings, root=root, progress=lambda step, text: steps.append(step))
    assert not report.cached and "journal" in steps
    assert report.journal["patches"] == 3 and report.journal["unclean"] == []
    assert state(settings) == before
    assert ask(settings, "id:north-korea crink:supplies id:russia")
    assert not ask(settings, "id:t1 ?p ?o")
    assert why_rebuild(settings) is None
    assert build(settings, root=root).cached  # replayed once, then current
    report = build(settings, root=root, force=True)
    assert report.journal["patches"] == 3 and state(settings) == before


@pytest.mark.parametrize("damage", ["record-garbage", "record-gone", "link-gone",
                                    "version-gone", "all-versions-gone"])
def test_damaged_metadata_rebuilds_and_replays_never_drops(project, damage) -> None:
    root, settings = project
    apply_versioned_update(settings.store, T7)
    apply_versioned_update(settings.store, NOTE)
    before = state(settings)
    layout = StoreLayout(settings.store)
    current = layout.current()
    assert current is not None
    if damage == "record-garbage":
        (current / "build.json").write_text("{not json")
    elif damage == "record-gone":
        (current / "build.json").unlink()
    elif damage == "link-gone":
        settings.store.unlink()
    elif damage == "version-gone":
        shutil.rmtree(current)
    else:
        shutil.rmtree(layout.versions)
    assert why_rebuild(settings) is not None
    report = build(settings, root=root)
    assert report.journal["patches"] == 2
    assert state(settings) == before


def test_graphs_created_empty_or_dropped_are_journalled_too(project) -> None:
    root, settings = project
    empty = "http://example.org/empty"
    apply_versioned_update(settings.store, f"CREATE GRAPH <{empty}>")
    apply_versioned_update(settings.store, f"DROP GRAPH <{FACTS}>")
    [created, dropped] = Journal(settings.store).patches()
    assert created.graphs_created == (empty,) and not created.adds
    assert dropped.graphs_dropped == (FACTS,) and len(dropped.deletes) == 4
    assert f'H graphsCreated "<{empty}>" .' in journal_path(settings.store).read_text()

    def graphs() -> set[str]:
        store = ox.Store.read_only(str(StoreLayout(settings.store).db()))
        return {g.value for g in store.named_graphs()}

    assert empty in graphs() and FACTS not in graphs()
    touch_inputs(root)
    build(settings, root=root)
    assert empty in graphs() and FACTS not in graphs()


def test_a_write_that_no_longer_applies_cleanly_is_named(project) -> None:
    root, settings = project
    apply_versioned_update(settings.store, f"DELETE DATA {{ GRAPH <{FACTS}> "
                           "{ id:russia crink:alliedWith id:north-korea } }")
    patch = Journal(settings.store).patches()[0]
    facts = root / "data" / "facts.ttl"  # the editor takes the same triple out of the file
    facts.write_text(facts.read_text().replace("id:russia :alliedWith id:north-korea .", ""))
    lines: list[str] = []
    report = build(settings, root=root, progress=lambda step, text: lines.append(text))
    [unclean] = report.journal["unclean"]
    assert unclean["id"] == patch.id and len(unclean["deletes_not_held"]) == 1
    assert "alliedWith" in unclean["deletes_not_held"][0]
    assert any(patch.id in line and "did not apply cleanly" in line for line in lines)
    assert not ask(settings, "id:russia crink:alliedWith id:north-korea")


def test_a_write_the_changed_files_contradict_stops_the_build_by_name(project) -> None:
    root, settings = project
    apply_versioned_update(settings.store, T7)
    culprit = apply_versioned_update(settings.store, f"INSERT DATA {{ GRAPH <{FACTS}> "
                                     "{ id:x a crink:State } }")["patch"]
    served = state(settings)
    version = StoreLayout(settings.store).current()
    # the files now say id:x is a transfer, which no state is: the write contradicts them
    facts = root / "data" / "facts.ttl"
    facts.write_text(facts.read_text()
                     + "id:x a :ArmsTransfer ; :supplier id:iran ; :recipient id:russia .\n")
    with pytest.raises(JournalConflict) as caught:
        build(settings, root=root)
    assert culprit in caught.value.message and "crinkkg journal" in caught.value.hint
    assert StoreLayout(settings.store).current() == version  # the last good store stays
    assert state(settings) == served
    assert len(Journal(settings.store).patches()) == 2  # nothing dropped


def test_fold_appends_additions_to_their_files_and_keeps_the_rest(project) -> None:
    root, settings = project
    three_writes(settings)
    before = state(settings)
    facts = root / "data" / "facts.ttl"
    original = facts.read_text()
    outcome = fold(settings, root=root)
    assert outcome.patches == 3
    assert outcome.written == {str(facts): 3}
    assert facts.read_text().startswith(original)  # the file's own text is left as it is
    assert "folded from the journal of writes" in facts.read_text()
    assert len(outcome.kept_deletes) == 3  # t1's three triples: hand-written Turtle
    assert len(outcome.kept_adds) == 1 and OTHER in outcome.kept_adds[0]  # no file holds it
    assert Path(outcome.archive).read_text().count("TC .") == 3
    [rest] = Journal(settings.store).patches()
    assert len(rest.deletes) == 3 and len(rest.adds) == 1
    build(settings, root=root)
    assert state(settings) == before


def test_discard_drops_the_writes_from_the_next_build_only(project) -> None:
    root, settings = project
    apply_versioned_update(settings.store, T7)
    count, archive = discard(settings)
    assert count == 1 and Path(archive).is_file()
    assert ask(settings, "id:t7 ?p ?o")  # still served until rebuilt
    assert why_rebuild(settings) == "the journal holds writes this store version does not"
    build(settings, root=root)
    assert not ask(settings, "id:t7 ?p ?o")
    assert Journal(settings.store).patches() == []


def test_a_patch_cut_short_is_dropped_and_a_damaged_journal_is_refused(project) -> None:
    root, settings = project
    apply_versioned_update(settings.store, T7)
    path = journal_path(settings.store)
    whole = path.read_text()
    path.write_text(whole + "H id <urn:uuid:x> .\nTX .\nA <http://a> <http://b> ")  # a crash
    assert len(Journal(settings.store).patches()) == 1
    apply_versioned_update(settings.store, NOTE)
    assert "urn:uuid:x" not in path.read_text() and path.read_text().count("TC .") == 2
    path.write_text(whole.replace("TX .", "TX .\nQ what .", 1))
    with pytest.raises(JournalDamaged, match="line 4"):
        Journal(settings.store).patches()
    touch_inputs(root)
    with pytest.raises(JournalDamaged):  # never a rebuild that leaves the writes out
        build(settings, root=root)
    assert ask(settings, "id:t7 ?p ?o")


def test_net_change_cancels_an_addition_undone_later() -> None:
    a = ox.Quad(ox.NamedNode("http://a"), ox.NamedNode("http://b"), ox.Literal("1"),
                ox.NamedNode("http://g"))
    b = ox.Quad(ox.NamedNode("http://a"), ox.NamedNode("http://b"), ox.Literal("2"),
                ox.NamedNode("http://g"))
    from crinkkg.store.journal import Patch
    patches = [Patch("urn:uuid:1", None, "2026-01-01T00:00:00Z", (), (a,)),
               Patch("urn:uuid:2", "urn:uuid:1", "2026-01-02T00:00:00Z", (a, b), ())]
    assert net_change(patches) == ({b}, set())


def test_the_journal_commands(project) -> None:
    root, settings = project
    first = apply_versioned_update(settings.store, T7)["patch"]
    second = apply_versioned_update(settings.store, NOTE)["patch"]
    shown = run_cli(root, "journal", "show", "--store", str(settings.store))
    assert shown.returncode == 0, shown.stderr
    assert first in shown.stdout and second in shown.stdout and "in the store" in shown.stdout
    listed = json.loads(run_cli(root, "journal", "show", "--json", "--since", first,
                                "--store", str(settings.store)).stdout)
    assert [w["id"] for w in listed["writes"]] == [second]
    patch = run_cli(root, "journal", "show", "--rdf-patch", "--store", str(settings.store))
    assert patch.stdout == journal_path(settings.store).read_text()
    unknown = run_cli(root, "journal", "show", "--since", "urn:uuid:nope",
                      "--store", str(settings.store))
    assert unknown.returncode != 0 and "no journalled write" in unknown.stderr
    refused = run_cli(root, "journal", "discard", "--store", str(settings.store))
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert len(Journal(settings.store).patches()) == 2
    done = run_cli(root, "journal", "discard", "--yes", "--store", str(settings.store))
    assert done.returncode == 0 and "2 journalled write(s) discarded" in done.stdout


# -- over HTTP, against a real server ---------------------------------------------------------

TOKEN = "journal-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}


def serve(root: Path):
    return start_server(root / ".crinkkg" / "store", "--enable-update",
                        ontology=root / "ontology", data=root / "data",
                        env={"CRINKKG_UPDATE_TOKEN": TOKEN})


def held(server, text: str) -> bool:
    r = requests.get(server.sparql, params={"query": f"ASK {{ {text} }}"}, timeout=30,
                     headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


def test_acknowledged_writes_survive_every_restart_that_rebuilds(project) -> None:
    root, settings = project
    markers = []
    with serve(root) as server:
        for i in range(4):
            r = requests.post(server.sparql, headers=AUTH, timeout=120, data={
                "update": f"INSERT DATA {{ GRAPH <{OTHER}> {{ id:note{i} rdfs:label "
                          f'"note {i}" }} }}'})
            assert r.status_code == 200, r.text
            markers.append(f"id:note{i} rdfs:label ?l")
        r = requests.put(f"{server.store}?graph=http://example.org/put", timeout=60,
                         data='<http://example.org/a> <http://example.org/b> "1" .',
                         headers={**AUTH, "Content-Type": "application/n-triples"})
        assert r.status_code in (200, 201, 204), r.text
        markers.append('<http://example.org/a> <http://example.org/b> "1"')
        health = requests.get(server.url + "/health", timeout=30).json()
        assert health["journal"] == {"status": "ok", "writes": 5, "in_store": True,
                                     "newest": Journal(settings.store).head()}
    layout = StoreLayout(settings.store)
    damages = [lambda: touch_inputs(root),
               lambda: (layout.current() / "build.json").write_text("garbage"),
               lambda: settings.store.unlink(),
               lambda: shutil.rmtree(layout.current())]
    for damage in damages:
        damage()
        with serve(root) as server:
            assert "replaying the journal" in server.log_path.read_text()
            for marker in markers:
                assert held(server, marker), marker


def test_the_change_feed(project) -> None:
    root, _settings = project
    with serve(root) as server:
        feed = server.url + "/changes"
        empty = requests.get(feed, timeout=30)
        assert empty.status_code == 200 and empty.text == ""
        assert empty.headers["Content-Type"] == "application/rdf-patch"
        for update in (T7, NOTE):
            assert requests.post(server.sparql, data={"update": update}, headers=AUTH,
                                 timeout=120).status_code == 200
        r = requests.get(feed, timeout=30)
        assert r.status_code == 200 and r.headers["X-Changes-Count"] == "2"
        first = r.text.split("\n", 1)[0].split("<", 1)[1].split(">", 1)[0]
        etag = r.headers["ETag"]
        assert requests.get(feed, headers={"If-None-Match": etag},
                            timeout=30).status_code == 304
        after = requests.get(feed, params={"since": first}, timeout=30)
        assert after.headers["X-Changes-Count"] == "1" and "seen" in after.text
        today = requests.get(feed, params={"since": "2000-01-01"}, timeout=30)
        assert today.text == r.text
        browser = requests.get(feed, headers={"Accept": "text/html,text/plain;q=0.9"},
                               timeout=30)
        assert browser.headers["Content-Type"].startswith("text/plain")
        missing = requests.get(feed, params={"since": "urn:uuid:nope"}, timeout=30,
                               headers={"Accept": "application/json"})
        assert missing.status_code == 404 and missing.json()["error"] == "no-such-change"
        # a new write changes the feed's validator
        assert requests.post(server.sparql, data={"update": DROP_T1}, headers=AUTH,
                             timeout=120).status_code == 200
        assert requests.get(feed, headers={"If-None-Match": etag},
                            timeout=30).status_code == 200


def test_a_damaged_store_takes_no_write_and_its_rebuild_replays_the_journal(project) -> None:
    root, settings = project
    apply_versioned_update(settings.store, T7)
    journal = journal_path(settings.store).read_bytes()
    db = StoreLayout(settings.store).db()
    table = max(db.glob("*.sst"), key=lambda p: p.stat().st_size)
    data = bytearray(table.read_bytes())
    data[len(data) // 2:len(data) // 2 + 32] = bytes(32)  # damaged in place
    table.write_bytes(bytes(data))
    with pytest.raises(StoreDamaged):
        apply_versioned_update(settings.store, NOTE)
    assert journal_path(settings.store).read_bytes() == journal  # nothing journalled
    assert why_rebuild(settings) == "the store's files are damaged"
    report = build(settings, root=root)
    assert report.journal["patches"] == 1
    assert ask(settings, "id:north-korea crink:supplies id:russia")


def test_line_separators_in_literals_stay_inside_their_row(project) -> None:
    root, settings = project
    apply_versioned_update(settings.store, f'INSERT DATA {{ GRAPH <{OTHER}> {{ id:t7 '
                           'rdfs:comment "a\u2028b\u2029c\u0085d"@en } }')
    apply_versioned_update(settings.store, T7)  # the journal is read again to append
    [first, _second] = Journal(settings.store).patches()
    assert first.adds[0].object.value == "a\u2028b\u2029c\u0085d"
    touch_inputs(root)
    assert build(settings, root=root).journal["patches"] == 2


def test_a_write_journalled_but_never_published_is_never_replayed(project) -> None:
    """What a worker killed between journalling and publishing leaves (its client was
    told the update was stopped): the next write or build takes it out."""
    root, settings = project
    apply_versioned_update(settings.store, T7)
    stopped = Journal(settings.store).append(
        [], [ox.Quad(ox.NamedNode("http://example.org/stopped"), ox.NamedNode(
            "http://example.org/p"), ox.Literal("1"), ox.NamedNode(OTHER))])[0]
    assert why_rebuild(settings) is None  # not a write the store lacks: one never made
    assert journal_feed(settings.store, None).count == 1  # nor a change to report
    apply_versioned_update(settings.store, NOTE)
    ids = Journal(settings.store).ids()
    assert stopped.id not in ids and len(ids) == 2
    assert Journal(settings.store).patches()[1].prev == ids[0]
    Journal(settings.store).append([], [ox.Quad(ox.NamedNode("http://example.org/again"),
                                                ox.NamedNode("http://example.org/p"),
                                                ox.Literal("1"), ox.NamedNode(OTHER))])
    lines: list[str] = []
    touch_inputs(root)
    report = build(settings, root=root, progress=lambda step, text: lines.append(text))
    assert report.journal["patches"] == 2
    assert any("never published" in line for line in lines)
    assert not ask(settings, "<http://example.org/again> ?p ?o")


@pytest.mark.parametrize("cut", [7, 30, 60, -9, -4, -2])
def test_a_patch_cut_anywhere_is_dropped_not_a_damaged_journal(project, cut) -> None:
    root, settings = project
    apply_versioned_update(settings.store, T7)
    path = journal_path(settings.store)
    whole = path.read_bytes()
    apply_versioned_update(settings.store, NOTE)
    second = path.read_bytes()[len(whole):]
    path.write_bytes(whole + second[:cut])  # power lost before the fsync
    assert len(Journal(settings.store).patches()) == 1
    apply_versioned_update(settings.store, DROP_T1)
    assert path.read_text().count("TC .") == 2


def test_a_write_after_a_discard_does_not_keep_the_discarded_ones(project) -> None:
    root, settings = project
    apply_versioned_update(settings.store, T7)
    discard(settings)
    apply_versioned_update(settings.store, NOTE)
    assert why_rebuild(settings) is not None
    report = build(settings, root=root)
    assert not report.cached and report.journal["patches"] == 1
    assert not ask(settings, "id:t7 a crink:ArmsTransfer")
    assert ask(settings, "id:t7 rdfs:comment ?c")  # the write after the discard stays
    assert build(settings, root=root).cached


def test_archives_made_in_the_same_second_are_all_kept(project) -> None:
    _root, settings = project
    archives = set()
    for i in range(3):
        apply_versioned_update(settings.store, f'INSERT DATA {{ GRAPH <{OTHER}> '
                               f'{{ id:n{i} rdfs:label "n" }} }}')
        archives.add(discard(settings)[1])
    assert len(archives) == 3 and all(Path(a).is_file() for a in archives)
