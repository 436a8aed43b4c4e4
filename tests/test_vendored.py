"""The JavaScript vendored from npm ships in the package with its licence, is served by the
server, and the Content-Security-Policy admits exactly the inline style sheets it needs."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources

import pytest
import requests
from servers import project_server

from crinkkg.web.http.guard import CSP, YASGUI_STYLE_HASHES

STATIC = resources.files("crinkkg") / "web" / "static"
VENDORED = {"yasgui": ("yasgui.min.js", "yasgui.min.css", "LICENSE"),
            "cytoscape": ("cytoscape.min.js", "LICENSE")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_vendored_files_and_licences_ship_in_the_package():
    versions = (STATIC / "vendor" / "VERSIONS").read_text()
    assert "@zazuko/yasgui 4.6.2 MIT" in versions and "cytoscape 3.35.0 MIT" in versions
    for folder, names in VENDORED.items():
        for name in names:
            text = (STATIC / "vendor" / folder / name).read_text()
            assert text, f"{folder}/{name} is empty"
            assert "sourceMappingURL" not in text  # no request for maps we do not ship
    assert "MIT" in (STATIC / "vendor" / "yasgui" / "LICENSE").read_text()


def test_served_with_the_pages(server):
    for folder, names in VENDORED.items():
        for name in names:
            if name.endswith((".js", ".css")):
                r = requests.get(f"{server.url}/static/vendor/{folder}/{name}", timeout=30)
                assert r.status_code == 200 and len(r.content) > 10_000, (folder, name)
    page = requests.get(server.url + "/sparql", headers={"Accept": "text/html"}, timeout=30)
    assert '/static/vendor/yasgui/yasgui.min.js' in page.text
    assert 'id="editor-config"' in page.text and "crink:State" in page.text  # our terms
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in page.headers["Content-Security-Policy"]


def test_csp_hashes_are_those_of_the_bundles_style_sheets():
    """YASGUI's column resizer writes two fixed <style> elements; the CSP allows exactly
    those (a refreshed bundle with other styles fails here, not silently in browsers)."""
    js = (STATIC / "vendor" / "yasgui" / "yasgui.min.js").read_text()
    start = js.index(" .grip-resizable{table-layout:fixed;}")
    grips = js[start:js.index("`", start)]
    drag = re.search(r"`\*\{cursor:`\+n\.opt\.dragCursor\+`!important\}`", js)
    assert drag and "dragCursor:`col-resize`" in js.replace('"', "`")
    expected = {_hash(grips), _hash("*{cursor:col-resize!important}")}
    assert set(YASGUI_STYLE_HASHES) == expected
    assert all(h in CSP for h in expected)
