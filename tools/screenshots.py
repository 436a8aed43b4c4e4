"""Take the README's screenshots (docs/screenshots/) from a running server, in the
Chromium the browser tests use, drawn at 0.75 scale to keep the PNGs small:

    .venv/bin/crinkkg serve --port 8000 &
    .venv/bin/python tools/screenshots.py http://127.0.0.1:8000
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SHOTS = [  # name, path, what to do first, the part of the page to show
    ("overview", "/", None, "section[aria-labelledby=network-heading]"),
    ("query", "/sparql", "example", "main"),
    ("claim", "/id/iran-shahed-drones-to-russia", None, "main"),
    ("source", "/id/source-crink-article#text-heading", None, "section.in-text"),
    ("entity", "/id/north-korea", None, "main"),
    ("ontology", "/ontology#alliedWith", None, "main"),
    ("compare", "/compare/matter-russia-dprk-treaty-2024", None, "main"),
    ("search", "/search?q=%22mutual+disdain%22+Iran", None, "main"),
    ("query-network", "/sparql", "network", "#yasgui-panel"),
    ("query-timeline", "/sparql", "timeline", "#yasgui-panel"),
]
#: the query each result view is shown with, and the view's button
VIEWS = {
    "network": ("CONSTRUCT { ?t crink:armsSupplier ?from ; crink:armsRecipient ?to } WHERE "
                "{ ?t crink:armsSupplier ?from ; crink:armsRecipient ?to }", "Network"),
    "timeline": ("SELECT ?x ?start ?precision WHERE { ?x crink:hasTime ?t . ?t crink:earliest "
                 "?start ; crink:hasPrecision ?precision } ORDER BY ?start", "Timeline"),
}


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium")
                                    or "/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900},
                                device_scale_factor=0.75)
        for name, path, action, selector in SHOTS:
            page.goto(base + path)
            if action == "example":
                page.locator(".yasqe .CodeMirror").wait_for()
                page.locator("a.example").nth(2).click()
                page.locator(".yasr table.dataTable tbody tr").first.wait_for()
            elif action in VIEWS:
                query, button = VIEWS[action]
                page.locator(".yasqe .CodeMirror").wait_for()
                page.evaluate("q => document.querySelector('.CodeMirror').CodeMirror"
                              ".setValue(q)", query)
                page.locator(".yasqe .yasqe_queryButton").click()
                page.get_by_role("button", name=button).click()
                page.locator(f".results-{action} figcaption").wait_for()
                page.wait_for_timeout(600)  # the network's layout settles
            page.wait_for_timeout(400)
            box = page.locator(selector).first.bounding_box()
            top = box["y"] if not path.endswith(("#alliedWith", "#text-heading")) else \
                page.evaluate("window.scrollY")
            clip = {"x": 0, "y": top, "width": 1200, "height": min(box["height"], 1000)}
            page.screenshot(path=str(OUT / f"{name}.png"), clip=clip, full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
