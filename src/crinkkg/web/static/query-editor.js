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
        autocompleters: ["variables", "prefixes", "crink-class", "crink-property"],
        editorHeight: "20rem",
        resizeable: true,
        showQueryButton: true
      },
      yasr: { prefixes: cfg.prefixes, defaultPlugin: "table", persistenceId: null }
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
