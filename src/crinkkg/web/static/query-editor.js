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
    var results = this.yasr.results;
    if (!results || !results.getBindings || !results.getVariables) { return null; }
    var rows = results.getBindings(), vars = results.getVariables();
    if (!rows || !rows.length || !vars || vars.length < 2) { return null; }
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
        autocompleters: ["variables", "prefixes", "crink-class", "crink-property"],
        editorHeight: "20rem",
        resizeable: true,
        showQueryButton: true
      },
      yasr: { prefixes: cfg.prefixes, defaultPlugin: "table", persistenceId: null,
              pluginOrder: ["table", "chart", "response"] }
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
