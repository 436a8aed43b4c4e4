"""Claims in their text: a source's stored text, cut into paragraphs, with the passages that
state claims highlighted and linked.

The text is read from the store (``<source> crink:textContent "…"``, put there by the
build), like any other data: never from the files. Web Annotation selectors index it in
Unicode code points, which is what a Python ``str`` indexes, so ``text[start:end]`` is the
passage. A passage whose selector does not match the text (a store built from other
files) is left out rather than highlighted at the wrong place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crinkkg.vocab import PREFIXES
from crinkkg.web.context import get_backend, memo
from crinkkg.web.http.urls import href
from crinkkg.web.services.describe import labels_of, safe_iri

TEXT_CONTENT = PREFIXES["crink"] + "textContent"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


@dataclass
class Anchor:
    """One anchored passage: which claim it states, where in the text."""

    claim: str
    label: str
    link: str | None
    start: int
    end: int
    exact: str
    number: int = 0


@dataclass
class Segment:
    """A run of text covered by the same set of passages (``anchors`` empty: plain text);
    ``ends`` are the passages that end with it, marked by a link to their claim."""

    text: str
    anchors: list[Anchor] = field(default_factory=list)
    ends: list[Anchor] = field(default_factory=list)
    focus: bool = False  # part of the passage the page is about

    @property
    def claims(self) -> str:
        return " ".join(a.label for a in self.anchors)


@dataclass
class Paragraph:
    start: int
    end: int
    segments: list[Segment]
    heading: int = 0  # the source's Markdown-style "### " heading level, 0 for prose


def stored_text(source: str) -> str | None:
    """The source's stored text from the store, or None when it has none."""
    if not safe_iri(source):
        return None

    def read() -> str | None:
        rows = get_backend().select_json(
            f"SELECT ?t WHERE {{ <{source}> <{TEXT_CONTENT}> ?t }} LIMIT 1")["results"]["bindings"]
        return rows[0]["t"]["value"] if rows else None

    return memo().get(("stored text", source), read,  # once per version
                      size=lambda text: 200 + len(text or ""))


def anchors_in(source: str, text: str) -> list[Anchor]:
    """Every claim passage anchored in ``source``, checked against its text, in text order,
    numbered from 1."""
    if not safe_iri(source):
        return []

    def read() -> list[tuple[str, int, int]]:
        rows = get_backend().select_json(f"""PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT DISTINCT ?claim ?start ?end WHERE {{
  ?claim crink:statedIn ?a . ?a oa:hasSource <{source}> ; oa:hasSelector ?pos .
  ?pos oa:start ?start ; oa:end ?end .
}}""")["results"]["bindings"]
        return [(b["claim"]["value"], int(b["start"]["value"]), int(b["end"]["value"]))
                for b in rows]

    rows = memo().get(("anchors in", source), read,  # once per version
                      size=lambda rows: 200 + 150 * len(rows))
    labels = labels_of({claim for claim, _, _ in rows})
    found = []
    for claim, start, end in rows:
        if not 0 <= start < end <= len(text):
            continue
        found.append(Anchor(claim, labels.get(claim) or claim.rsplit("/", 1)[-1], href(claim),
                            start, end, text[start:end]))
    found.sort(key=lambda a: (a.start, a.end, a.label, a.claim))
    for i, a in enumerate(found, 1):
        a.number = i
    return found


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: runs of text between blank lines."""
    out, pos = [], 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
    if pos < len(text.rstrip()):
        out.append((pos, len(text.rstrip())))
    return out


def render(text: str, anchors: list[Anchor], *, focus: list[tuple[int, int]] | None = None,
           context: int = 0) -> list[Paragraph]:
    """The text as paragraphs of segments. With ``focus`` (passages as (start, end)), only
    the paragraphs holding them and ``context`` paragraphs either side; the focused
    passages are marked as such."""
    spans = paragraphs(text)
    if focus is not None:
        keep = {i for i, (s, e) in enumerate(spans) for fs, fe in focus if s < fe and fs < e}
        keep |= {j for i in keep for j in range(i - context, i + context + 1)}
        spans = [p for i, p in enumerate(spans) if i in keep]
    out = []
    for p_start, p_end in spans:
        cuts = {p_start, p_end}
        inside = [a for a in anchors if a.start < p_end and p_start < a.end]
        for a in inside:
            cuts.update(x for x in (a.start, a.end) if p_start < x < p_end)
        for fs, fe in focus or ():
            cuts.update(x for x in (fs, fe) if p_start < x < p_end)
        points = sorted(cuts)
        segments = []
        for s, e in zip(points, points[1:], strict=False):
            covering = [a for a in inside if a.start <= s and e <= a.end]
            segments.append(Segment(
                text[s:e], covering, [a for a in inside if a.end == e],
                any(fs <= s and e <= fe for fs, fe in focus or ())))
        body = text[p_start:p_end]
        heading = len(body) - len(body.lstrip("#")) if body.startswith("#") else 0
        if heading and segments and segments[0].text.startswith("#"):
            segments[0].text = segments[0].text.lstrip("#").lstrip()
        out.append(Paragraph(p_start, p_end, segments, min(heading, 4)))
    return out
