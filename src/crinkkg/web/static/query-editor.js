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
      persistenceId: null,
      populateFromUrl: false,
      autofocus: false,
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
      yasqe: {
        value: cfg.query || "",
        // prefix.cc is not asked either: the prefixes completer uses its bundled list
        autocompleters: ["variables", "prefixes", "crink-class", "crink-property",
                         "crink-resource"],
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
  predeclare();
  yasgui.on("tabChange", predeclare);
  yasgui.on("tabChange", label);
  yasgui.on("tabSelect", function () { window.setTimeout(label, 0); });
  if (cfg.query) { tab().setQuery(cfg.query); }

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

  // asserted, inferred or both (a crinkkg extension of the protocol: view=)
  var viewSelect = document.getElementById("yasgui-view");
  if (viewSelect) {
    viewSelect.addEventListener("change", function () {
      cfg.view = viewSelect.value;
      tab().setRequestConfig({ args: cfg.view !== "all" ? [{ name: "view", value: cfg.view }] : [] });
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
