"""SVG diagrams drawn on the server: the network of actors, an entity's neighbourhood and
a timeline of dated events.

Server-side SVG needs no script and no library in the browser, prints, and works offline;
layouts are deterministic (the same graph gives the same picture), so screenshots and
tests are stable. Every shape carries a ``<title>`` (a tooltip and an accessible name)
and nodes and edges are links to the pages of what they stand for.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from markupsafe import Markup, escape


@dataclass
class Node:
    """A node: ``key`` (an IRI), what it shows and where it links."""

    key: str
    label: str
    href: str | None = None
    kind: str = "state"  # state, member, grouping, centre, other
    x: float = 0.0
    y: float = 0.0


@dataclass
class Edge:
    """An edge between two node keys; ``title`` says what it stands for."""

    source: str
    target: str
    kind: str
    title: str
    href: str | None = None
    label: str = ""
    inferred: bool = False
    via: str = ""  # the claim node the edge stands for
    directed: bool | None = None  # None: as its style says
    support: tuple[int, int] | None = None  # a derived link's (sources, fact sources)


@dataclass(frozen=True)
class Style:
    """How one kind of edge looks, and what the legend calls it."""

    kind: str
    legend: str
    colour: str
    width: float = 2.5
    dash: str = ""
    directed: bool = True


#: derived links (the support graph) by how firmly their claims are stated: solid and
#: thick when two or more sources state one as fact, solid when one does, dotted when none
#: does (only hedged, reported, perceived or headline claims)
DERIVED_STYLES: dict[str, Style] = {
    "derived-corroborated": Style("derived-corroborated", "derived link, stated as fact by "
                                  "two or more sources", "#1d2329", 4.5, "", True),
    "derived-fact": Style("derived-fact", "derived link, stated as fact by one source",
                          "#1d2329", 2.0, "", True),
    "derived-weak": Style("derived-weak", "derived link, stated as fact by no source "
                          "(hedged, reported or headline claims only)", "#6b6b6b", 2.0,
                          "2 4", True),
}

# Okabe-Ito based, readable on white; dashes tell kinds apart without colour too
BASE_STYLES: dict[str, Style] = {
    "alliance": Style("alliance", "alliance (treaty)", "#0061a0", 5.0, "", False),
    "partnership": Style("partnership", "partnership", "#3d8fc4", 2.5, "1 0", False),
    "member": Style("member", "member of grouping", "#8a8a8a", 1.5, "2 4", False),
    "conflict": Style("conflict", "armed conflict", "#c0392b", 3.5, "10 5", False),
    "strike": Style("strike", "strike", "#8e1b10", 2.5, "4 3", True),
    "request": Style("request", "request (status in tooltip)", "#5a5a5a", 2.0, "3 3", True),
}
TRANSFER_PALETTE = ("#007a5a", "#c77700", "#a4457f", "#7b4f2c", "#5b3a9b", "#2f6f6f",
                    "#8a7400", "#1f5f99", "#b03060", "#4d7a00")
NODE_FILL = {"member": ("#fde2b8", "#8a5a00"), "state": ("#e3ecf5", "#34526f"),
             "grouping": ("#f2d9ef", "#7a3b73"), "centre": ("#fff3c4", "#7a6000"),
             "other": ("#eeeeee", "#555555")}


def transfer_style(kind: str, legend: str, index: int) -> Style:
    """The style of one kind of transfer (the n-th kind gets the n-th colour)."""
    colour = TRANSFER_PALETTE[index % len(TRANSFER_PALETTE)]
    dash = "" if index < len(TRANSFER_PALETTE) else "6 2"
    return Style(kind, legend, colour, 2.5, dash, True)


def _e(text: object) -> str:
    return str(escape(str(text)))


# -- layout --------------------------------------------------------------------------------

def _clear_edges(pos: dict[str, list[float]], links: set[tuple[str, str]], *,
                 clearance: float, bounds: tuple[float, float, float, float],
                 rounds: int = 20) -> None:
    """Move nodes off the straight edges of other pairs: an edge drawn through a node
    reads as two edges of that node (Russia-North Korea through Iran)."""
    for _ in range(rounds):
        moved = False
        for a, b in sorted(links):
            ax, ay = pos[a]
            bx, by = pos[b]
            length2 = (bx - ax) ** 2 + (by - ay) ** 2
            if length2 < 1e-9:
                continue
            for c in sorted(pos):
                if c in (a, b):
                    continue
                cx, cy = pos[c]
                t = ((cx - ax) * (bx - ax) + (cy - ay) * (by - ay)) / length2
                if not 0.05 < t < 0.95:
                    continue
                px, py = ax + t * (bx - ax), ay + t * (by - ay)
                d = math.hypot(cx - px, cy - py)
                if d >= clearance:
                    continue
                # push c away from the edge, perpendicular to it (a fixed side when on it)
                nx, ny = (cx - px, cy - py) if d > 1e-9 else (-(by - ay), bx - ax)
                norm = math.hypot(nx, ny) or 1.0
                x = min(max(px + nx / norm * clearance, bounds[0]), bounds[1])
                y = min(max(py + ny / norm * clearance, bounds[2]), bounds[3])
                if abs(x - cx) + abs(y - cy) > 0.5:
                    pos[c][0], pos[c][1] = x, y
                    moved = True
        if not moved:
            return


def force_layout(keys: list[str], pairs: Iterable[tuple[str, str]], width: float,
                 height: float, *, centre: Iterable[str] = (), iterations: int = 400,
                 margin: float = 70.0) -> dict[str, tuple[float, float]]:
    """Fruchterman-Reingold from a circle (sorted keys): deterministic, and fine for the
    tens of nodes an overview shows. ``centre`` keys start in the middle.

    The forces are summed over plain lists, the links in sorted order: floating-point sums
    depend on their order, and a set of links is iterated in an order that changes with
    the process's string-hash seed (two server processes drew two different pictures)."""
    n = len(keys)
    if n == 0:
        return {}
    centre = set(centre)
    index = {k: i for i, k in enumerate(keys)}
    xs = [0.0] * n
    ys = [0.0] * n
    ring = [k for k in keys if k not in centre]
    for i, k in enumerate(ring):
        angle = 2 * math.pi * i / max(1, len(ring)) - math.pi / 2
        xs[index[k]], ys[index[k]] = math.cos(angle), math.sin(angle)
    for i, k in enumerate(c for c in keys if c in centre):
        xs[index[k]], ys[index[k]] = 0.05 * i, 0.05 * i
    links = sorted({(a, b) for a, b in pairs if a in index and b in index and a != b})
    ends = [(index[a], index[b]) for a, b in links]
    area = 4.0
    k_opt = math.sqrt(area / n)
    k2 = k_opt * k_opt
    hypot = math.hypot
    temperature = 0.2
    for step in range(iterations):
        dxs = [0.0] * n
        dys = [0.0] * n
        for a in range(n):
            ax, ay = xs[a], ys[a]
            for b in range(a + 1, n):
                dx, dy = ax - xs[b], ay - ys[b]
                d = hypot(dx, dy) or 1e-3
                f = k2 / d
                fx, fy = dx / d * f, dy / d * f
                dxs[a] += fx
                dys[a] += fy
                dxs[b] -= fx
                dys[b] -= fy
        for a, b in ends:
            dx, dy = xs[a] - xs[b], ys[a] - ys[b]
            d = hypot(dx, dy) or 1e-3
            f = d * d / k_opt
            fx, fy = dx / d * f, dy / d * f
            dxs[a] -= fx
            dys[a] -= fy
            dxs[b] += fx
            dys[b] += fy
        for k in range(n):
            # a weak pull to the middle keeps unconnected nodes on the canvas
            dxs[k] -= xs[k] * 0.05
            dys[k] -= ys[k] * 0.05
            d = hypot(dxs[k], dys[k]) or 1e-9
            step_length = min(d, temperature)
            xs[k] += dxs[k] / d * step_length
            ys[k] += dys[k] / d * step_length
        temperature = max(0.005, 0.2 * (1 - step / iterations))
    low_x, low_y = min(xs), min(ys)
    span_x = (max(xs) - low_x) or 1.0
    span_y = (max(ys) - low_y) or 1.0
    out: dict[str, list[float]] = {}
    for k in ring + [c for c in keys if c in centre]:  # the order the nodes were placed in
        x, y = xs[index[k]], ys[index[k]]
        fx = (x - low_x) / span_x if n > 1 else 0.5
        fy = (y - low_y) / span_y if n > 1 else 0.5
        out[k] = [margin + fx * (width - 2 * margin), margin + fy * (height - 2 * margin)]
    _spread(out, keys, width, height, margin)
    _clear_edges(out, set(links), clearance=min(width, height) / 9,
                 bounds=(margin, width - margin, margin, height - margin))
    return {k: (v[0], v[1]) for k, v in out.items()}


def _spread(pos: dict[str, list[float]], keys: list[str], width: float, height: float,
            margin: float) -> None:
    """Push apart nodes closer than a minimum distance (hubs attract their neighbours into
    a knot that labels cannot be read in), keeping everything inside the margins."""
    min_d = min(230.0, 0.9 * math.sqrt(width * height / max(1, len(keys))))
    for _ in range(200):
        moved = False
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                dx, dy = pos[b][0] - pos[a][0], pos[b][1] - pos[a][1]
                d = math.hypot(dx, dy)
                if d >= min_d:
                    continue
                if d < 1e-6:
                    dx, dy, d = 1.0, 0.0, 1.0
                push = (min_d - d) / 2
                pos[a][0] -= dx / d * push
                pos[a][1] -= dy / d * push
                pos[b][0] += dx / d * push
                pos[b][1] += dy / d * push
                moved = True
        for k in keys:
            pos[k][0] = min(max(pos[k][0], margin), width - margin)
            pos[k][1] = min(max(pos[k][1], margin), height - margin)
        if not moved:
            break


def _curve(a: Node, b: Node, offset: float, ra: float, rb: float
           ) -> tuple[str, tuple[float, float]]:
    """A quadratic curve from the rim of ``a`` to the rim of ``b``, bent by ``offset``;
    returns the path and the curve's middle (for a label)."""
    mx, my = (a.x + b.x) / 2, (a.y + b.y) / 2
    dx, dy = b.x - a.x, b.y - a.y
    d = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / d, dx / d
    cx, cy = mx + nx * offset, my + ny * offset

    def rim(px: float, py: float, r: float) -> tuple[float, float]:
        vx, vy = cx - px, cy - py
        vd = math.hypot(vx, vy) or 1.0
        return px + vx / vd * r, py + vy / vd * r

    sx, sy = rim(a.x, a.y, ra)
    ex, ey = rim(b.x, b.y, rb)
    middle = (0.25 * sx + 0.5 * cx + 0.25 * ex, 0.25 * sy + 0.5 * cy + 0.25 * ey)
    return f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}", middle


def _markers(styles: Iterable[Style], prefix: str) -> str:
    out = []
    for s in styles:
        if s.directed:
            out.append(f'<marker id="{prefix}-{_e(s.kind)}" viewBox="0 0 10 10" refX="9" '
                       f'refY="5" markerWidth="6" markerHeight="6" '
                       f'orient="auto-start-reverse" markerUnits="strokeWidth">'
                       f'<path d="M0,0 L10,5 L0,10 z" fill="{s.colour}"/></marker>')
    return "<defs>" + "".join(out) + "</defs>"


def _node_svg(node: Node, radius: float) -> str:
    fill, stroke = NODE_FILL.get(node.kind, NODE_FILL["other"])
    if node.kind == "grouping":
        shape = (f'<rect x="{node.x - radius * 1.3:.1f}" y="{node.y - radius * 0.8:.1f}" '
                 f'width="{radius * 2.6:.1f}" height="{radius * 1.6:.1f}" rx="8" '
                 f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>')
    else:
        shape = (f'<circle cx="{node.x:.1f}" cy="{node.y:.1f}" r="{radius:.1f}" '
                 f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>')
    text = (f'<text x="{node.x:.1f}" y="{node.y + radius + 15:.1f}" text-anchor="middle" '
            f'class="node-label">{_e(node.label)}</text>')
    body = f"<title>{_e(node.label)}</title>{shape}{text}"
    if node.href:
        return (f'<a href="{_e(node.href)}" class="node">'
                f"{body}</a>")
    return f'<g class="node">{body}</g>'


def _edges_svg(nodes: dict[str, Node], edges: list[Edge], styles: dict[str, Style],
               prefix: str, radius: float, *, show_labels: bool = False) -> str:
    groups: dict[frozenset, list[Edge]] = defaultdict(list)
    for e in edges:
        if e.source in nodes and e.target in nodes and e.source != e.target:
            groups[frozenset((e.source, e.target))].append(e)
    out = []
    for _, group in sorted(groups.items(), key=lambda kv: sorted(kv[0])):
        group.sort(key=lambda e: (e.kind, e.title))
        n = len(group)
        for i, e in enumerate(group):
            a, b = nodes[e.source], nodes[e.target]
            # parallel edges fan out; the sign follows a fixed order of the two ends so
            # that edges in opposite directions do not overlap
            offset = (i - (n - 1) / 2) * 26.0
            if e.source > e.target:
                offset = -offset
            path, middle = _curve(a, b, offset, radius + 3, radius + 6)
            s = styles.get(e.kind) or Style(e.kind, e.kind, "#444444")
            dash = f' stroke-dasharray="{s.dash}"' if s.dash and s.dash != "1 0" else ""
            if e.inferred:
                dash = ' stroke-dasharray="5 4"'
            directed = s.directed if e.directed is None else e.directed
            marker = f' marker-end="url(#{prefix}-{_e(s.kind)})"' if directed else ""
            line = (f'<path d="{path}" fill="none" stroke="{s.colour}" '
                    f'stroke-width="{s.width}"{dash}{marker}/>'
                    f'<path d="{path}" fill="none" stroke="transparent" stroke-width="12"/>')
            label = ""
            if show_labels and e.label:
                label = (f'<text x="{middle[0]:.1f}" y="{middle[1] - 4:.1f}" '
                         f'text-anchor="middle" class="edge-label">{_e(e.label)}</text>')
            body = f"<title>{_e(e.title)}</title>{line}{label}"
            if e.href:
                out.append(f'<a href="{_e(e.href)}" class="edge edge-{_e(e.kind)}" '
                           f'>{body}</a>')
            else:
                out.append(f'<g class="edge edge-{_e(e.kind)}">{body}</g>')
    return "".join(out)


#: the overview network's canvas
NETWORK_SIZE = (960, 600)


def place_network(nodes: list[Node], edges: list[Edge]) -> None:
    """Give the overview's nodes their places (groupings start in the middle)."""
    width, height = NETWORK_SIZE
    positions = force_layout([n.key for n in nodes], [(e.source, e.target) for e in edges],
                             width, height,
                             centre=[n.key for n in nodes if n.kind == "grouping"])
    for n in nodes:
        n.x, n.y = positions[n.key]


def network_svg(nodes: list[Node], edges: list[Edge], styles: dict[str, Style], *,
                title: str, description: str) -> Markup:
    """The overview network: actors as nodes (where :func:`place_network` put them),
    claims as (linked) edges."""
    if not nodes:
        return Markup('<p class="empty">No states or groupings in the graph yet.</p>')
    width, height = NETWORK_SIZE
    by_key = {n.key: n for n in nodes}
    radius = 22.0
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'class="diagram network" role="group" aria-labelledby="net-title net-desc">',
           f'<title id="net-title">{_e(title)}</title><desc id="net-desc">{_e(description)}'
           f"</desc>", _markers(styles.values(), "net"),
           _edges_svg(by_key, edges, styles, "net", radius)]
    svg += [_node_svg(n, radius) for n in sorted(nodes, key=lambda n: n.key)]
    svg.append("</svg>")
    return Markup("".join(svg))


def legend_sample(style: Style) -> Markup:
    """A small inline SVG that shows one edge style (for the HTML legend)."""
    dash = f' stroke-dasharray="{style.dash}"' if style.dash and style.dash != "1 0" else ""
    head = (f'<path d="M34,2 L44,7 L34,12 z" fill="{style.colour}"/>' if style.directed
            else "")
    return Markup(f'<svg width="46" height="14" viewBox="0 0 46 14" aria-hidden="true">'
                  f'<line x1="2" y1="7" x2="{36 if style.directed else 44}" y2="7" '
                  f'stroke="{style.colour}" stroke-width="{min(style.width, 5)}"{dash}/>'
                  f"{head}</svg>")


def node_sample(kind: str) -> Markup:
    """A small inline SVG of one node kind (for the legend)."""
    fill, stroke = NODE_FILL[kind]
    shape = (f'<rect x="2" y="3" width="22" height="14" rx="4" fill="{fill}" '
             f'stroke="{stroke}" stroke-width="2"/>' if kind == "grouping" else
             f'<circle cx="12" cy="10" r="8" fill="{fill}" stroke="{stroke}" '
             f'stroke-width="2"/>')
    return Markup(f'<svg width="26" height="20" viewBox="0 0 26 20" aria-hidden="true">'
                  f"{shape}</svg>")


# -- neighbourhood ---------------------------------------------------------------------------

@dataclass
class Neighbour:
    """A resource linked to the centre, with the predicates (labels) of the links."""

    key: str
    label: str
    href: str | None
    outgoing: list[str] = field(default_factory=list)
    incoming: list[str] = field(default_factory=list)
    inferred: bool = False


def neighbourhood_svg(centre_label: str, neighbours: list[Neighbour], *,
                      width: int = 900, height: int = 480) -> Markup:
    """The centre and its neighbours on a ring, each link labelled with its property;
    inferred-only links are dashed."""
    if not neighbours:
        return Markup("")
    cx, cy = width / 2, height / 2
    centre = Node("__centre__", centre_label, None, "centre", cx, cy)
    nodes = {centre.key: centre}
    edges = []
    ring_x, ring_y = width / 2 - 250, height / 2 - 50
    for i, nb in enumerate(neighbours):
        angle = 2 * math.pi * i / len(neighbours) - math.pi / 2
        node = Node(nb.key, nb.label, nb.href, "other",
                    cx + ring_x * math.cos(angle), cy + ring_y * math.sin(angle))
        nodes[nb.key] = node
        if nb.outgoing:
            edges.append(Edge(centre.key, nb.key, "out", ", ".join(nb.outgoing),
                              label=_short(", ".join(nb.outgoing)), inferred=nb.inferred))
        if nb.incoming:
            edges.append(Edge(nb.key, centre.key, "in", ", ".join(nb.incoming),
                              label=_short(", ".join(nb.incoming)), inferred=nb.inferred))
    styles = {"out": Style("out", "links to", "#34526f", 1.8, "", True),
              "in": Style("in", "linked from", "#7a3b73", 1.8, "", True)}
    radius = 9.0
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'class="diagram neighbourhood" role="group" aria-labelledby="nb-title">',
           f'<title id="nb-title">{_e(centre_label)} and the resources it is linked with'
           f"</title>", _markers(styles.values(), "nb"),
           _edges_svg(nodes, edges, styles, "nb", radius, show_labels=True)]
    for n in nodes.values():
        if n.kind == "centre":
            svg.append(f'<g class="node centre"><title>{_e(n.label)}</title>'
                       f'<circle cx="{n.x:.1f}" cy="{n.y:.1f}" r="16" fill="#fff3c4" '
                       f'stroke="#7a6000" stroke-width="2.5"/>'
                       f'<text x="{n.x:.1f}" y="{n.y + 32:.1f}" text-anchor="middle" '
                       f'class="node-label strong">{_e(_short(n.label, 40))}</text></g>')
        else:
            svg.append(_ring_node_svg(n, cx, cy, radius))
    svg.append("</svg>")
    return Markup("".join(svg))


def _ring_node_svg(n: Node, cx: float, cy: float, radius: float) -> str:
    """A neighbour: a small disc, its label outside the ring (anchored away from the
    centre so that labels do not run into the links)."""
    dx, dy = n.x - cx, n.y - cy
    d = math.hypot(dx, dy) or 1.0
    ux, uy = dx / d, dy / d
    anchor = "start" if ux > 0.3 else "end" if ux < -0.3 else "middle"
    tx, ty = n.x + ux * (radius + 6), n.y + uy * (radius + 6) + (4 if abs(uy) < 0.7 else
                                                                   (14 if uy > 0 else -4))
    fill, stroke = NODE_FILL["other"]
    body = (f"<title>{_e(n.label)}</title>"
            f'<circle cx="{n.x:.1f}" cy="{n.y:.1f}" r="{radius:.1f}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"/>'
            f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" class="node-label">'
            f"{_e(_short(n.label, 30))}</text>")
    if n.href:
        return f'<a href="{_e(n.href)}" class="node">{body}</a>'
    return f'<g class="node">{body}</g>'


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


# -- timeline --------------------------------------------------------------------------------

@dataclass
class Dated:
    """A dated resource: ``date`` is ``YYYY`` or ``YYYY-MM`` or ``YYYY-MM-DD``."""

    key: str
    label: str
    href: str | None
    date: str
    lane: str  # "event" or "source"
    what: str = ""

    @property
    def precise(self) -> bool:
        return len(self.date) >= 10

    @property
    def position(self) -> float:
        """Years as a number: a bare year sits in its middle."""
        parts = self.date.split("-")
        year = int(parts[0])
        if len(parts) == 1:
            return year + 0.5
        month = int(parts[1])
        day = int(parts[2][:2]) if len(parts) > 2 else 15
        return year + (month - 1) / 12 + (day - 1) / 366


def _span(date: str, x_of) -> tuple[float, float]:
    """Where a year (``YYYY``) or a month (``YYYY-MM``) starts and ends on the axis."""
    parts = date.split("-")
    year = int(parts[0])
    if len(parts) == 1:
        return x_of(year), x_of(year + 1)
    month = int(parts[1])
    return x_of(year + (month - 1) / 12), x_of(year + month / 12)


def timeline_svg(items: list[Dated], *, width: int = 960,
                 title: str = "Timeline of dated events (above the axis) and of the "
                              "publication of sources (below)") -> Markup:
    """Events above the axis, source publications below, labels stacked so that none
    overlaps another; precise dates filled, year-only dates hollow."""
    if not items:
        return Markup('<p class="empty">No dated events in the graph yet.</p>')
    start = math.floor(min(i.position for i in items))
    end = math.floor(max(i.position for i in items)) + 1
    if end - start < 2:
        start -= 1
        end += 1
    margin = 40.0

    def x_of(value: float) -> float:
        return margin + (value - start) / (end - start) * (width - 2 * margin)

    row_height = 20.0
    placed: dict[str, list[tuple[Dated, float, int]]] = {"event": [], "source": []}
    for lane in placed:
        rows_end: list[float] = []
        for item in sorted((i for i in items if i.lane == lane), key=lambda i: i.position):
            x = x_of(item.position)
            text_width = 6.6 * min(len(item.label), 60) + 10
            left = min(max(x - 8, margin / 2), width - text_width - 4)
            row = next((r for r, e in enumerate(rows_end) if e < left), len(rows_end))
            if row == len(rows_end):
                rows_end.append(0.0)
            rows_end[row] = left + text_width
            placed[lane].append((item, left, row))
    above = 1 + max((r for _, _, r in placed["event"]), default=-1)
    below = 1 + max((r for _, _, r in placed["source"]), default=-1)
    axis_y = 30 + above * row_height + 24
    height = int(axis_y + 40 + below * row_height + 20)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'class="diagram timeline" role="group" aria-labelledby="tl-title">',
           f'<title id="tl-title">{_e(title)}</title>',
           f'<line x1="{margin / 2}" y1="{axis_y}" x2="{width - margin / 2}" y2="{axis_y}" '
           f'stroke="#333" stroke-width="1.5"/>']
    # a year's label every `step` years, so that labels never overlap (about 36 px each)
    fits = max(1, int((width - 2 * margin) // 36))
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000, 10**9)
                if (end - start) / s <= fits)
    for year in range(start, end + 1):
        x = x_of(year)
        labelled = year % step == 0
        tick = 5 if labelled else 3
        svg.append(f'<line x1="{x:.1f}" y1="{axis_y - tick}" x2="{x:.1f}" '
                   f'y2="{axis_y + tick}" stroke="#333"/>')
        if labelled:
            svg.append(f'<text x="{x:.1f}" y="{axis_y + 20}" text-anchor="middle" '
                       f'class="tick">{year}</text>')
    for lane, entries in placed.items():
        for item, left, row in entries:
            x = x_of(item.position)
            if lane == "event":
                ty = axis_y - 24 - row * row_height
                line_end = ty + 5
            else:
                ty = axis_y + 44 + row * row_height
                line_end = ty - 13
            colour = "#0061a0" if lane == "event" else "#7a3b73"
            fill = colour if item.precise else "#ffffff"
            title = f"{item.label} ({item.date}{', ' + item.what if item.what else ''})"
            body = (f"<title>{_e(title)}</title>"
                    f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{line_end:.1f}" '
                    f'stroke="{colour}" stroke-width="1" opacity="0.6"/>'
                    f'<circle cx="{x:.1f}" cy="{axis_y}" r="6" fill="{fill}" '
                    f'stroke="{colour}" stroke-width="2"/>'
                    f'<text x="{left + 4:.1f}" y="{ty:.1f}" class="tl-label">'
                    f"{_e(_short(item.label, 60))}</text>")
            if not item.precise:  # the stretch of time the source allows: a year, a month
                x0, x1 = _span(item.date, x_of)
                body = (f'<rect x="{x0:.1f}" y="{axis_y - 4}" width="{max(x1 - x0, 2):.1f}" '
                        f'height="8" rx="3" fill="{colour}" opacity="0.22" class="tl-span"/>'
                        + body)
            key = f' data-key="{_e(item.key)}" data-year="{item.date[:4]}"'
            if item.href:
                svg.append(f'<a href="{_e(item.href)}" '
                           f'class="tl-item"{key}>{body}</a>')
            else:
                svg.append(f'<g class="tl-item"{key}>{body}</g>')
    svg.append("</svg>")
    return Markup("".join(svg))
