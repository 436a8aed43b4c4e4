// crinkkg: the query page with YASGUI (vendored, static/vendor/yasgui). Without JavaScript,
// or if YASGUI fails to start, the page keeps its plain form and server-rendered table.
// No inline script: the configuration comes from a JSON data block of the page.
(function () {
  "use strict";
  var configElement = document.getElementById("editor-config");
  var host = document.getElementById("yasgui");
  if (!configElement || !host || !window.Yasgui) { return; }
  var cfg = JSON.parse(configElement.textContent);
  var Yasgui = window.Yasgui;
  var Yasqe = Yasgui.Yasqe;

  // Classes and properties of our own ontology, served with the page: YASGUI's own
  // class/property completers ask an online service (LOV), which is never used here.
  function ourTerms(kind) {
    var terms = (cfg.terms && cfg.terms[kind]) || [];
    return {
      name: "crink-" + kind,
      bulk: false,
      autoShow: false,
      get: function (yasqe, token) {
        var typed = ((token && token.string) || "").trim().toLowerCase();
        if (!typed) { return terms.slice(0, 100); }
        return terms.filter(function (t) {
          return t.toLowerCase().indexOf(typed) === 0 ||
            t.toLowerCase().indexOf(":" + typed) === t.indexOf(":");
        }).slice(0, 100);
      },
      preProcessToken: function (yasqe, token) { return token; },
      postProcessSuggestion: function (yasqe, token, suggestion) { return suggestion; }
    };
  }
  Yasqe.forkAutocompleter("class", ourTerms("class"), false);
  Yasqe.forkAutocompleter("property", ourTerms("property"), false);

  // The graph's own resources (id:iran, id:russia-dprk-treaty-2024, ...), by local name or
  // by the words of their labels, asked of this server's index as one types (Ctrl+Space):
  // a bounded, prefix-matched answer from /sparql/complete, never an outside service.
  var completeUrl = new URL(cfg.complete, window.location.href).href;
  var labels = {};
  Yasqe.registerAutocompleter({
    name: "crink-resource",
    bulk: false,
    autoShow: false,
    isValidCompletionPosition: function (yasqe) {
      var token = yasqe.getCompleteToken();
      var typed = (token && token.string) || "";
      if (!/^[A-Za-z_][\w.-]*:[\w.-]+$|^[A-Za-z_][\w.-]{1,}$/.test(typed)) { return false; }
      // where a class or a property is expected, those completers answer (every valid
      // completer shows its hints, the last one over the others)
      return !["crink-class", "crink-property"].some(function (name) {
        var other = Yasqe.Autocompleters[name];
        return other && other.isValidCompletionPosition &&
          other.isValidCompletionPosition(yasqe);
      });
    },
    get: function (yasqe, token) {
      var typed = ((token && token.string) || "").trim();
      var colon = typed.indexOf(":");
      var prefix = colon >= 0 ? typed.slice(0, colon + 1) : "";
      var local = colon >= 0 ? typed.slice(colon + 1) : typed;
      if (!local) { return Promise.resolve([]); }
      var url = completeUrl + "?" + new URLSearchParams({ prefix: local, limit: "50" });
      return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
        return r.ok ? r.json() : { resources: [] };
      }).then(function (answer) {
        return answer.resources.filter(function (r) {
          return !prefix || r.name.indexOf(prefix) === 0;
        }).slice(0, 20).map(function (r) {
          labels[r.name] = r.label;
          return r.name;
        });
      }).catch(function () { return []; });
    },
    preProcessToken: function (yasqe, token) { return token; },
    postProcessSuggestion: function (yasqe, token, suggestion) { return suggestion; },
    postprocessHints: function (yasqe, hints) {
      return hints.map(function (h) {
        var label = labels[h.text];
        return label ? Object.assign({}, h, { displayText: h.text + "  \u2014 " + label }) : h;
      });
    }
  }, false);

  // CodeMirror's list of completions is a listbox without a name: give it one as it opens
  // (the editor adds it anew each time)
  if (window.MutationObserver) {
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        Array.prototype.forEach.call(change.addedNodes, function (node) {
          if (node.nodeType === 1 && node.classList.contains("CodeMirror-hints")) {
            node.setAttribute("aria-label", "Completions");
          }
        });
      });
    }).observe(host, { childList: true, subtree: true });
  }

  // A chart for results with a numeric column (YASR's own chart plugin draws with an
  // online library, so this bundle has none): horizontal bars in SVG, drawn here.
  var SVG = "http://www.w3.org/2000/svg";
  function svg(name, attributes, parent) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (k) { element.setAttribute(k, attributes[k]); });
    if (parent) { parent.appendChild(element); }
    return element;
  }
  function shortName(term) {
    if (!term) { return ""; }
    if (term.type !== "uri") { return term.value; }
    for (var prefix in cfg.prefixes) {
      var ns = cfg.prefixes[prefix];
      if (term.value.indexOf(ns) === 0 && term.value.length > ns.length) {
        return prefix + ":" + term.value.slice(ns.length);
      }
    }
    return term.value;
  }
  function Chart(yasr) {
    this.yasr = yasr;
    this.label = "Chart";
    this.priority = 5;
  }
  Chart.prototype.series = function () {
    var answer = answerOf(this.yasr);
    if (!answer) { return null; }
    var rows = answer.rows, vars = answer.vars;
    if (!rows.length || vars.length < 2) { return null; }
    var value = vars.filter(function (v) {
      return rows.every(function (b) {
        var t = b[v];
        return t && t.type !== "uri" && t.type !== "bnode" && t.value !== "" &&
          !isNaN(Number(t.value));
      });
    })[0];
    if (!value) { return null; }
    var label = vars.filter(function (v) { return v !== value; })[0];
    return { label: label, value: value, rows: rows.slice(0, 60).map(function (b) {
      return { text: shortName(b[label]), n: Number(b[value].value) };
    }) };
  };
  Chart.prototype.canHandleResults = function () { return Boolean(this.series()); };
  Chart.prototype.getIcon = function () {
    var icon = svg("svg", { viewBox: "0 0 16 16", width: "16", height: "16", "aria-hidden": "true" });
    [[1, 9, 3, 6], [6, 4, 3, 11], [11, 7, 3, 8]].forEach(function (r) {
      svg("rect", { x: r[0], y: r[1], width: r[2], height: r[3], fill: "currentColor" }, icon);
    });
    return icon;
  };
  Chart.prototype.draw = function () {
    var data = this.series();
    if (!data) { return; }
    var bar = 22, left = 260, width = 820, top = 8;
    var max = Math.max.apply(null, data.rows.map(function (r) { return Math.abs(r.n); })) || 1;
    var figure = document.createElement("figure");
    figure.className = "results-chart";
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + (top * 2 + bar * data.rows.length),
                             role: "img", "aria-labelledby": "results-chart-caption" }, figure);
    data.rows.forEach(function (r, i) {
      var y = top + i * bar;
      var g = svg("g", {}, chart);
      svg("title", {}, g).textContent = r.text + ": " + r.n;
      var name = svg("text", { x: left - 8, y: y + 15, "text-anchor": "end", "class": "bar-label" }, g);
      name.textContent = r.text.length > 38 ? r.text.slice(0, 37) + "\u2026" : r.text;
      var w = Math.max(1, (width - left - 60) * Math.abs(r.n) / max);
      svg("rect", { x: left, y: y + 3, width: w.toFixed(1), height: bar - 6, fill: "#0061a0" }, g);
      var number = svg("text", { x: (left + w + 6).toFixed(1), y: y + 15, "class": "bar-value" }, g);
      number.textContent = String(r.n);
    });
    var caption = document.createElement("figcaption");
    caption.id = "results-chart-caption";
    caption.textContent = "?" + data.value + " by ?" + data.label +
      (data.rows.length < this.yasr.results.getBindings().length ? " (first 60 rows)" : "");
    figure.appendChild(caption);
    this.yasr.resultsEl.appendChild(figure);
  };
  Yasgui.Yasr.registerPlugin("chart", Chart);

  // The rows and variables of the answer a result view draws (none without an answer).
  function answerOf(yasr) {
    var results = yasr.results;
    if (!results || !results.getBindings || !results.getVariables) { return null; }
    return { rows: results.getBindings() || [], vars: results.getVariables() || [] };
  }

  // The page of an IRI of this graph on this server (none for other IRIs).
  function pageOf(term) {
    if (!term || term.type !== "uri" || !cfg.base || term.value.indexOf(cfg.base) !== 0) {
      return undefined;
    }
    return cfg.root + "/" + term.value.slice(cfg.base.length);
  }
  function figureIn(yasr, className, caption) {
    var figure = document.createElement("figure");
    figure.className = className;
    var text = document.createElement("figcaption");
    text.textContent = caption;
    yasr.resultsEl.appendChild(figure);
    return { figure: figure, caption: text };
  }

  // A network of any answer that is a graph (CONSTRUCT, DESCRIBE: subject, predicate,
  // object) or that binds pairs of resources (the first two columns holding IRIs or blank
  // nodes, labelled by a third column of IRIs, e.g. a property), drawn as the overview
  // draws its network (network.js).
  var RESOURCE = { uri: true, bnode: true };
  var RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label";
  var MAX_NODES = 300, MAX_EDGES = 600;
  function Network(yasr) {
    this.yasr = yasr;
    this.label = "Network";
    this.priority = 4;
  }
  Network.prototype.graph = function () {
    var answer = answerOf(this.yasr);
    if (!answer) { return null; }
    var rows = answer.rows, vars = answer.vars;
    var triples = vars.join(" ") === "subject predicate object";
    var from = "subject", to = "object", via = "predicate";
    if (!triples) {
      var pair = vars.filter(function (v) {
        return rows.some(function (b) { return b[v] && RESOURCE[b[v].type]; });
      });
      if (pair.length < 2) { return null; }
      from = pair[0]; to = pair[1];
      via = vars.filter(function (v) {
        return v !== from && v !== to && rows.some(function (b) { return b[v]; }) &&
          rows.every(function (b) { return !b[v] || b[v].type === "uri"; });
      })[0] || null;
    }
    var labels = {}, nodes = {}, order = [], edges = [], left = 0;
    rows.forEach(function (b) {
      if (triples && b.object && b.object.type === "literal" && b.predicate.value === RDFS_LABEL) {
        labels[b.subject.value] = labels[b.subject.value] || b.object.value;
      }
    });
    function node(term) {
      if (!nodes[term.value]) {
        if (order.length >= MAX_NODES) { return null; }
        order.push(term.value);
        nodes[term.value] = { data: {
          id: term.value, label: labels[term.value] || (term.type === "bnode" ? "(blank node)"
            : shortName(term)), href: pageOf(term),
          fill: term.type === "bnode" ? "#eef0f2" : "#dbe9f4",
          stroke: term.type === "bnode" ? "#6b7780" : "#0061a0" } };
      }
      return nodes[term.value];
    }
    rows.forEach(function (b) {
      var s = b[from], o = b[to];
      if (!s || !o || !RESOURCE[s.type] || !RESOURCE[o.type]) { return; }
      if (edges.length >= MAX_EDGES || !node(s) || !node(o)) { left += 1; return; }
      edges.push({ data: { id: "e" + edges.length, source: s.value, target: o.value,
        colour: "#5b6670", width: 2, directed: true,
        title: via && b[via] ? shortName(b[via]) : "?" + from + " \u2192 ?" + to,
        href: via && b[via] ? pageOf(b[via]) : undefined } });
    });
    if (!edges.length) { return null; }
    return { elements: order.map(function (k) { return nodes[k]; }).concat(edges),
             nodes: order.length, edges: edges.length, left: left, triples: triples,
             from: from, to: to };
  };
  Network.prototype.canHandleResults = function () { return Boolean(this.graph()); };
  Network.prototype.getIcon = function () {
    var icon = svg("svg", { viewBox: "0 0 16 16", width: "16", height: "16", "aria-hidden": "true" });
    svg("path", { d: "M4 4 L12 6 L7 12 Z", fill: "none", stroke: "currentColor" }, icon);
    [[4, 4], [12, 6], [7, 12]].forEach(function (c) {
      svg("circle", { cx: c[0], cy: c[1], r: 2.2, fill: "currentColor" }, icon);
    });
    return icon;
  };
  Network.prototype.draw = function () {
    var g = this.graph();
    if (!g || !window.crinkkgNetwork) { return; }
    var parts = figureIn(this.yasr, "results-network", g.nodes + " nodes and " + g.edges +
      (g.triples ? " triples between resources" : " pairs ?" + g.from + " \u2192 ?" + g.to) +
      (g.left ? " (" + g.left + " more left out: at most " + MAX_NODES + " nodes and " +
        MAX_EDGES + " edges are drawn)" : "") +
      ". Click a node or an edge to open it; the table view lists every row.");
    var box = document.createElement("div");
    box.className = "cy results-cy";
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", "Network of the answer: " + parts.caption.textContent);
    parts.figure.appendChild(box);
    parts.figure.appendChild(parts.caption);
    window.crinkkgNetwork.draw(box, g.elements,
      { name: "cose", animate: false, fit: true, padding: 30, randomize: false });
  };
  Yasgui.Yasr.registerPlugin("network", Network);

  // A timeline of any answer with a date-typed column, each date at its precision (a year
  // or a month drawn as the stretch of time it allows, a day as a point), drawn by the
  // server with the overview's timeline code (POST /views/timeline). The precision is the
  // datatype's (xsd:gYear, xsd:gYearMonth, xsd:date), or, for the graph's own times
  // (crink:earliest, an xsd:dateTime), the crink:hasPrecision a column of the answer binds:
  // rows of another precision (relative, since a year, unknown) are left out, as on the
  // overview.
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var DATE_LENGTH = {};
  DATE_LENGTH[XSD + "gYear"] = 4; DATE_LENGTH[XSD + "gYearMonth"] = 7;
  DATE_LENGTH[XSD + "date"] = 10; DATE_LENGTH[XSD + "dateTime"] = 10;
  var MAX_DATED = 500;
  var PRECISION_NS = (cfg.prefixes.crink || "") + "precision-";
  var PRECISION = {};
  PRECISION[PRECISION_NS + "year"] = 4; PRECISION[PRECISION_NS + "month"] = 7;
  PRECISION[PRECISION_NS + "day"] = 10;
  function Timeline(yasr) {
    this.yasr = yasr;
    this.label = "Timeline";
    this.priority = 3;
  }
  Timeline.prototype.items = function () {
    var answer = answerOf(this.yasr);
    if (!answer) { return null; }
    var rows = answer.rows, vars = answer.vars;
    function dated(t) {
      return t && t.type === "literal" && DATE_LENGTH[t.datatype] &&
        /^\d{4}/.test(t.value);
    }
    var when = vars.filter(function (v) {
      return rows.some(function (b) { return dated(b[v]); });
    })[0];
    if (!when) { return null; }
    var precision = vars.filter(function (v) {
      return rows.some(function (b) {
        return b[v] && b[v].type === "uri" && b[v].value.indexOf(PRECISION_NS) === 0;
      });
    })[0];
    var what = vars.filter(function (v) { return v !== when && v !== precision; })[0];
    function length(b) {
      if (!precision) { return DATE_LENGTH[b[when].datatype]; }
      return b[precision] ? PRECISION[b[precision].value] : undefined;
    }
    var items = rows.filter(function (b) { return dated(b[when]) && length(b); })
      .slice(0, MAX_DATED).map(function (b) {
        var t = b[when], name = what && b[what];
        return { label: name ? shortName(name) : t.value, date: t.value.slice(0, length(b)),
                 href: pageOf(name) };
      });
    if (!items.length) { return null; }
    return { items: items, when: when, rows: rows.length };
  };
  Timeline.prototype.canHandleResults = function () { return Boolean(this.items()); };
  Timeline.prototype.getIcon = function () {
    var icon = svg("svg", { viewBox: "0 0 16 16", width: "16", height: "16", "aria-hidden": "true" });
    svg("line", { x1: 1, y1: 10, x2: 15, y2: 10, stroke: "currentColor" }, icon);
    [[3, 1], [8, 1], [12, 1]].forEach(function (c) {
      svg("circle", { cx: c[0], cy: 10, r: 2, fill: "currentColor" }, icon);
    });
    return icon;
  };
  Timeline.prototype.draw = function () {
    var data = this.items();
    if (!data) { return; }
    var parts = figureIn(this.yasr, "results-timeline", data.items.length + " dated row" +
      (data.items.length === 1 ? "" : "s") + " by ?" + data.when +
      (data.items.length < data.rows ? " (of " + data.rows + " rows: those without a date" +
        " of a year, month or day, or beyond the first " + MAX_DATED + ", are left out)" : "") +
      "; a hollow mark is a year or a month, the band the stretch of time it allows.");
    fetch(cfg.root + "/views/timeline", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ items: data.items })
    }).then(function (response) {
      if (!response.ok) { throw new Error("the server answered " + response.status); }
      return response.text();
    }).then(function (text) {
      var drawn = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
      parts.figure.appendChild(document.importNode(drawn, true));
      parts.figure.appendChild(parts.caption);
    }).catch(function (error) {
      parts.caption.textContent = "The timeline could not be drawn: " + error.message;
      parts.figure.appendChild(parts.caption);
    });
  };
  Yasgui.Yasr.registerPlugin("timeline", Timeline);

  var endpoint = new URL(cfg.endpoint, window.location.href).href;
  var args = cfg.view && cfg.view !== "all" ? [{ name: "view", value: cfg.view }] : [];
  var yasgui;
  try {
    yasgui = new Yasgui(host, {
      requestConfig: { endpoint: endpoint, method: "POST", args: args,
                       acceptHeaderGraph: "text/turtle" },
      copyEndpointOnNewTab: true,
      // tabs, their queries and their views are kept in this browser (localStorage), so a
      // reload or the next visit finds them; results are not kept (they can be large)
      persistenceId: "crinkkg-editor",
      populateFromUrl: false,
      autofocus: false,
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
      yasqe: {
        value: cfg.defaultQuery || "",
        // prefix.cc is not asked either: the prefixes completer uses its bundled list
        autocompleters: ["variables", "prefixes", "crink-class", "crink-property",
                         "crink-resource"],
        editorHeight: "20rem",
        resizeable: true,
        showQueryButton: true
      },
      yasr: { prefixes: cfg.prefixes, defaultPlugin: "table", persistenceId: null,
              pluginOrder: ["table", "chart", "network", "timeline", "response"] }
    });
  } catch (error) {
    if (window.console) { console.warn("YASGUI could not start; the plain form stays", error); }
    return;
  }
  var panel = document.getElementById("yasgui-panel");
  var form = document.getElementById("editor-panel");
  form.hidden = true;
  panel.hidden = false;
  document.body.classList.add("with-yasgui");

  function tab() { return yasgui.getTab(); }

  // What YASGUI leaves unnamed gets a name (axe-core checks the page in the tests).
  function label() {
    Array.prototype.forEach.call(host.querySelectorAll(".CodeMirror textarea"), function (t) {
      t.setAttribute("aria-label", "SPARQL query");
    });
    Array.prototype.forEach.call(host.querySelectorAll("input.autocomplete"), function (i) {
      i.setAttribute("aria-label", "SPARQL endpoint");
    });
    Array.prototype.forEach.call(host.querySelectorAll("select.tableSizer"), function (s) {
      s.setAttribute("aria-label", "Rows per page");
    });
    Array.prototype.forEach.call(host.querySelectorAll("input.tableFilter"), function (i) {
      i.setAttribute("aria-label", "Filter the results");
    });
    Array.prototype.forEach.call(host.querySelectorAll(".CodeMirror-scroll"), function (s) {
      s.setAttribute("tabindex", "0");
    });
    // a tab list may hold only tabs: the "+" that opens a new one is said to be one
    Array.prototype.forEach.call(host.querySelectorAll(".tabsList button.addTab"), function (b) {
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", "false");
    });
  }
  label();

  // The endpoint predeclares the common prefixes: tell the editor's syntax check, which
  // otherwise marks crink:, id:, rdfs:… as undefined in a query that does not declare them.
  function predeclare() {
    var yasqe = tab().getYasqe();
    var mode = yasqe && yasqe.getMode();
    if (!mode || !mode.startState || mode.crinkkgPrefixes) { return; }
    var start = mode.startState;
    mode.startState = function () {
      var state = start.apply(this, arguments);
      Object.keys(cfg.prefixes).forEach(function (p) {
        if (state.prefixes[p] === undefined) { state.prefixes[p] = cfg.prefixes[p]; }
      });
      return state;
    };
    mode.crinkkgPrefixes = true;
    var cursor = yasqe.getCursor();
    yasqe.setValue(yasqe.getValue());
    yasqe.setCursor(cursor);
    if (yasqe.checkSyntax) { yasqe.checkSyntax(); }
  }
  // A page opened with a query (a shared link, an example) shows it in a tab of its own,
  // beside the tabs kept from before, with the view the link names.
  function viewArgs(view) { return view && view !== "all" ? [{ name: "view", value: view }] : []; }
  // (On a first visit the one tab, still holding the starting query, takes it instead.)
  if (cfg.query && tab().getQuery() !== cfg.query) {
    var kept = yasgui.persistentConfig ? yasgui.persistentConfig.getTabs().length : 1;
    if (kept <= 1 && tab().getQuery() === (cfg.defaultQuery || "")) {
      tab().setQuery(cfg.query);
      tab().setRequestConfig({ args: viewArgs(cfg.view) });
    } else {
      yasgui.addTab(true, { yasqe: { value: cfg.query },
                            requestConfig: { endpoint: endpoint, args: viewArgs(cfg.view) } },
                    { avoidDuplicateTabs: true });
    }
  }
  predeclare();
  yasgui.on("tabChange", predeclare);
  yasgui.on("tabChange", label);
  yasgui.on("tabSelect", function () { window.setTimeout(label, 0); });

  // Downloads in every format the endpoint writes, for the query as it stands.
  var downloads = document.getElementById("yasgui-downloads");
  function showDownloads() {
    var query = tab().getQuery();
    var form = tab().getYasqe().getQueryType ? tab().getYasqe().getQueryType() : "SELECT";
    var kinds = (form === "CONSTRUCT" || form === "DESCRIBE") ? cfg.downloads.graph
      : cfg.downloads.results;
    var list = downloads.querySelector("span");
    list.textContent = "";
    kinds.forEach(function (kind, i) {
      var params = new URLSearchParams({ query: query, format: kind[0] });
      if (cfg.view && cfg.view !== "all") { params.set("view", cfg.view); }
      var link = document.createElement("a");
      link.href = cfg.endpoint + "?" + params.toString();
      link.setAttribute("download", "");
      link.textContent = kind[1];
      if (i) { list.appendChild(document.createTextNode(" · ")); }
      list.appendChild(link);
    });
    downloads.hidden = false;
  }

  // YASGUI keeps a tab's query when its editor loses focus: leaving the page counts as that
  window.addEventListener("pagehide", function () {
    var yasqe = tab().getYasqe();
    if (yasqe && yasqe.hasFocus()) { yasqe.getInputField().blur(); }
  });

  // asserted, inferred or both (a crinkkg extension of the protocol: view=), kept per tab
  var viewSelect = document.getElementById("yasgui-view");
  function tabView() {
    var args = (tab().getRequestConfig() || {}).args || [];
    var found = args.filter(function (a) { return a.name === "view"; })[0];
    return found ? found.value : "all";
  }
  if (viewSelect) {
    viewSelect.addEventListener("change", function () {
      cfg.view = viewSelect.value;
      tab().setRequestConfig({ args: viewArgs(cfg.view) });
      showLink();
    });
  }

  // "Link to this query": the address that opens this page with the tab's query and view
  var link = document.getElementById("yasgui-link");
  function queryLink() {
    var params = new URLSearchParams({ query: tab().getQuery() });
    if (tabView() !== "all") { params.set("view", tabView()); }
    return new URL(cfg.endpoint + "?" + params.toString(), window.location.href).href;
  }
  function showLink() {
    if (!link) { return; }
    link.href = queryLink();
    link.hidden = false;
  }
  function selectTab() {
    cfg.view = tabView();
    if (viewSelect) { viewSelect.value = cfg.view; }
    showLink();
  }
  selectTab();
  yasgui.on("tabSelect", function () { window.setTimeout(selectTab, 0); });
  yasgui.on("tabChange", function () { window.setTimeout(showLink, 0); });
  if (link) {
    link.addEventListener("click", function (event) {
      if (!navigator.clipboard || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      event.preventDefault();
      var status = document.getElementById("yasgui-link-status");
      navigator.clipboard.writeText(link.href).then(function () {
        if (status) { status.textContent = "Link copied."; }
      }, function () { window.location.href = link.href; });
    });
  }

  yasgui.on("queryResponse", function () {
    // the server-rendered results of the page's own query give way to YASGUI's
    var old = document.getElementById("results");
    if (old) { old.remove(); }
    showDownloads();
    window.setTimeout(label, 0);
  });

  // IRIs of this graph in the results open here, not at their canonical (w3id.org) home.
  host.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || !cfg.base || link.href.indexOf(cfg.base) !== 0) { return; }
    event.preventDefault();
    window.location.href = cfg.root + "/" + link.href.slice(cfg.base.length);
  });

  // One click on an example puts it in the editor and runs it.
  Array.prototype.forEach.call(document.querySelectorAll("a.example"), function (link) {
    link.addEventListener("click", function (event) {
      var text = cfg.examples[link.getAttribute("data-example")];
      if (!text || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      event.preventDefault();
      tab().setQuery(text);
      tab().query();
    });
  });
})();
