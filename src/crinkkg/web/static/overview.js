// crinkkg: the overview's interactive network (drawn by network.js with Cytoscape.js,
// vendored in static/vendor/cytoscape) with filters by relation, source, modality and time that also
// apply to the timeline and to the lists, and for the derived links by their support (how
// many sources state their claims as fact, how many state them at all). Without JavaScript the server-drawn SVG and the
// lists stay as they are. No inline script: the data come from a JSON block of the page.
(function () {
  "use strict";
  var dataElement = document.getElementById("network-data");
  var panel = document.getElementById("network-interactive");
  var container = document.getElementById("cy");
  if (!dataElement || !panel || !container || typeof window.cytoscape !== "function" ||
      !window.crinkkgNetwork) { return; }
  var data = JSON.parse(dataElement.textContent);
  var form = document.getElementById("network-filters");
  var count = document.getElementById("network-count");

  panel.hidden = false;
  var staticFigure = document.getElementById("network-static");
  if (staticFigure) { staticFigure.hidden = true; }

  var cy = window.crinkkgNetwork.draw(container, data.elements);

  function checked(name) {
    return Array.prototype.filter.call(form.querySelectorAll("input[name='" + name + "']"),
      function (box) { return box.checked; }).map(function (box) { return box.value; });
  }
  function anyIn(values, allowed) {
    return values.some(function (v) { return allowed.indexOf(v) >= 0; });
  }

  // Which claims (by node IRI) pass the filters; an edge without facets (membership of a
  // grouping) passes on its kind alone.
  function threshold(name) {
    var field = form.elements[name];
    return field ? parseInt(field.value, 10) || 0 : 0;
  }

  function apply() {
    var kinds = checked("kind"), sources = checked("source"), modalities = checked("modality");
    var minFact = threshold("min-fact-sources"), minSources = threshold("min-sources");
    var visibleLink = {}, shownDerived = 0, totalDerived = 0;
    var from = form.elements.from ? parseInt(form.elements.from.value, 10) : null;
    var to = form.elements.to ? parseInt(form.elements.to.value, 10) : null;
    var undated = form.elements.undated ? form.elements.undated.checked : true;
    var visibleVia = {}, hiddenVia = {}, shown = 0, total = 0;
    cy.batch(function () {
      cy.edges().forEach(function (edge) {
        var d = edge.data();
        var pass = kinds.indexOf(d.kind) >= 0;
        if (pass && d.faceted) {
          if (d.sources.length && !anyIn(d.sources, sources)) { pass = false; }
          if (d.modalities.length && !anyIn(d.modalities, modalities)) { pass = false; }
          if (d.yearFrom === null || d.yearFrom === undefined) {
            if (!undated) { pass = false; }
          } else if (from !== null && (d.yearTo < from || d.yearFrom > to)) {
            pass = false;
          }
        }
        if (pass && d.derived && (d.factSources < minFact || d.sourceCount < minSources)) {
          pass = false;
        }
        edge.toggleClass("filtered", !pass);
        if (d.derived) {
          totalDerived += 1;
          if (pass) { shownDerived += 1; visibleLink[d.href] = true; }
        } else {
          total += 1;
          if (pass) { shown += 1; }
        }
        if (d.via) { (pass ? visibleVia : hiddenVia)[d.via] = true; }
      });
    });
    count.textContent = shown + " of " + total + " claims shown" + (totalDerived ?
      "; " + shownDerived + " of " + totalDerived + " derived links." : ".");
    container.setAttribute("data-shown-derived", String(shownDerived));
    // the lists and the timeline follow
    Array.prototype.forEach.call(document.querySelectorAll("li[data-via]"), function (li) {
      li.hidden = !visibleVia[li.getAttribute("data-via")];
    });
    Array.prototype.forEach.call(document.querySelectorAll("li[data-link]"), function (li) {
      li.hidden = !visibleLink[li.getAttribute("data-link")];
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-key][data-year]"),
      function (item) {
        var key = item.getAttribute("data-key"), year = parseInt(item.getAttribute("data-year"), 10);
        var out = (hiddenVia[key] && !visibleVia[key]) ||
          (from !== null && (year < from || year > to));
        item.classList.toggle("filtered-out", Boolean(out));
      });
    container.setAttribute("data-shown", String(shown + shownDerived));
  }
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  apply();
  cy.one("render", function () {
    // measured by tests/test_browser.py: from navigation to the first drawn network
    container.setAttribute("data-rendered-ms", String(Math.round(window.performance.now())));
  });
})();
