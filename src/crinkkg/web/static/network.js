// crinkkg: how a network is drawn with Cytoscape.js (vendored in static/vendor/cytoscape),
// shared by the overview's network and the query editor's network view of any answer.
// Nodes and edges carry their own look in their data: a node its fill, stroke and kind
// ("grouping" is drawn as a rounded rectangle), an edge its colour, width, title and
// whether it is directed or dashed. A node or edge with an href opens it when clicked.
(function () {
  "use strict";
  var STYLE = [
    { selector: "node", style: {
      "label": "data(label)", "background-color": "data(fill)", "border-color": "data(stroke)",
      "border-width": 2, "width": 40, "height": 40, "font-size": 13, "font-weight": 600,
      "color": "#1d2329", "text-valign": "bottom", "text-margin-y": 4,
      "text-outline-color": "#ffffff", "text-outline-width": 3 } },
    { selector: "node[kind = 'grouping']", style: { "shape": "round-rectangle", "width": 56 } },
    { selector: "edge", style: {
      "line-color": "data(colour)", "width": "data(width)", "curve-style": "bezier",
      "control-point-step-size": 22, "target-arrow-color": "data(colour)",
      "arrow-scale": 1.1, "opacity": 0.9 } },
    { selector: "edge[?directed]", style: { "target-arrow-shape": "triangle" } },
    { selector: "edge[?dashed]", style: { "line-style": "dashed" } },
    { selector: "edge:selected, edge.hover", style: {
      "label": "data(title)", "font-size": 11, "text-wrap": "wrap", "text-max-width": 220,
      "text-background-color": "#ffffff", "text-background-opacity": 0.9,
      "text-background-padding": 2, "z-index": 10, "width": 5 } },
    { selector: ".filtered", style: { "display": "none" } }
  ];

  // layout: "preset" when the elements carry positions (the overview's, laid out by the
  // server), "cose" (Cytoscape's force-directed layout) otherwise
  function draw(container, elements, layout) {
    var cy = window.cytoscape({
      container: container,
      elements: elements,
      layout: layout || { name: "preset", fit: true, padding: 30 },
      minZoom: 0.3,
      maxZoom: 3,
      style: STYLE
    });
    cy.on("tap", "node, edge", function (event) {
      var target = event.target.data("href");
      if (target) { window.location.href = target; }
    });
    cy.on("mouseover", "edge", function (event) { event.target.addClass("hover"); });
    cy.on("mouseout", "edge", function (event) { event.target.removeClass("hover"); });
    return cy;
  }
  window.crinkkgNetwork = { draw: draw };
})();
