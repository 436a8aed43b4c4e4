"""``POST /views/timeline``: the editor's timeline view, drawn by the overview's timeline
code; what it accepts, what it refuses, and labels that never overlap."""

from __future__ import annotations

import re

import pytest
import requests
from servers import project_server

from crinkkg.web.render.diagram import Dated, timeline_svg


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return project_server(tmp_path_factory.getbasetemp())


def post(server, body) -> requests.Response:
    return requests.post(server.url + "/views/timeline", json=body, timeout=30,
                         headers={"Accept": "application/json"})


def test_each_item_at_its_precision(server) -> None:
    items = [{"label": "a day", "date": "2024-06-19", "href": "/id/russia"},
             {"label": "a month", "date": "2024-06"}, {"label": "a year", "date": "2022"}]
    r = post(server, {"items": items})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("image/svg+xml")
    assert r.text.count('class="tl-item"') == 3
    assert r.text.count('class="tl-span"') == 2  # the month and the year: a stretch of time
    assert '<a href="/id/russia"' in r.text


@pytest.mark.parametrize("body", [
    None, {"items": "x"}, {"items": [{"label": "a"}]},
    {"items": [{"label": "a", "date": "2024-13"}]},
    {"items": [{"label": "a", "date": "2024", "href": "https://elsewhere.example/"}]},
    {"items": [{"label": "a", "date": "2024", "href": "//elsewhere.example/"}]},
])
def test_what_is_no_timeline_is_a_400(server, body) -> None:
    r = post(server, body)
    assert r.status_code == 400, r.text[:200]
    assert r.json()["error"] == "bad-timeline"


@pytest.mark.parametrize("first", ["1961", "2001", "2023"])
def test_year_labels_never_overlap(first: str) -> None:
    svg = str(timeline_svg([Dated("a", "A", None, first, "event"),
                            Dated("b", "B", None, "2025-01-02", "event")], width=960))
    xs = [float(x) for x in re.findall(r'<text x="([\d.]+)"[^>]*class="tick"', svg)]
    assert len(xs) >= 2
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= 36
