// The query editor: YASGUI against this server's /sparql, examples, downloads, local links.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("editor-config").textContent);
  // YASGUI builds URLs with new URL(endpoint), which throws on a relative one ("/sparql").
  const endpoint = new URL(config.endpoint, window.location.href).href;
  const YasguiClass = window.Yasgui.default || window.Yasgui;
  const yasgui = new YasguiClass(document.getElementById("yasgui"), {
    requestConfig: {
      endpoint: endpoint,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json",
      acceptHeaderGraph: "text/turtle",
    },
    copyEndpointOnNewTab: false,
    persistenceId: null,
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
    // No autocompleter that would call prefix.cc or LOV: the page talks to this server only.
    yasqe: { autocompleters: ["variables"], value: config.defaultQuery },
    yasr: { prefixes: config.prefixes },
  });
  window.kgYasgui = yasgui;

  function tab() { return yasgui.getTab(); }
  function currentQuery() { return tab().getQuery(); }

  if (!currentQuery().trim()) tab().setQuery(config.defaultQuery);

  // Errors: the server's message in a box above the results, its line and column marked in
  // the query (the endpoint answers "... at line L, column C: cause").
  const errorBox = document.getElementById("query-error");
  let marks = [];
  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    marks.forEach((mark) => mark.clear());
    marks = [];
  }
  function showError(title, message, yasqe) {
    clearError();
    const strong = document.createElement("strong");
    strong.textContent = title;
    errorBox.append(strong, document.createElement("br"), message);
    errorBox.hidden = false;
    const where = /at line (\d+), column (\d+)/.exec(message);
    if (where && yasqe) markPosition(yasqe, Number(where[1]) - 1, Number(where[2]) - 1);
  }
  function markPosition(yasqe, line, column) {
    if (line >= yasqe.lineCount()) line = yasqe.lineCount() - 1;
    const text = yasqe.getLine(line) || "";
    let start = Math.min(column, text.length);
    let end = start;
    while (end < text.length && /\S/.test(text[end]) && (end === start || /[\w:\-]/.test(text[end]))) end++;
    if (end === start && start > 0) start--;  // at the end of the line: mark the last character
    if (end === start) end = start + 1;
    marks.push(yasqe.markText({ line: line, ch: start }, { line: line, ch: end },
      { className: "kg-error-mark" }));
    yasqe.addLineClass(line, "background", "kg-error-line");
    marks.push({ clear: () => yasqe.removeLineClass(line, "background", "kg-error-line") });
    yasqe.setCursor({ line: line, ch: start });
  }
  // YASQE checks the query as it is typed and would flag ag:, skos: ... as undeclared: its
  // parser starts from the prefixes the endpoint declares, as the server does.
  function declarePrefixes(yasqe) {
    const mode = yasqe.getMode();
    const start = mode.startState;
    mode.startState = function () {
      const state = start.apply(this, arguments);
      Object.assign(state.prefixes, config.prefixes);
      return state;
    };
    yasqe.setValue(yasqe.getValue());  // read the query again with them
  }
  function watch(yasqe) {
    if (!yasqe || yasqe.kgWatched) return;
    yasqe.kgWatched = true;
    declarePrefixes(yasqe);
    yasqe.on("queryBefore", clearError);
    yasqe.on("queryResponse", (instance, response) => {
      if (response instanceof Error) {
        const text = String(response.message || response).replace(/^\d{3} [A-Za-z ]+: /, "");
        showError("The query was refused", text.trim(), instance);
      } else {
        clearError();
      }
    });
  }
  watch(tab().getYasqe());
  yasgui.on("tabSelect", () => setTimeout(() => watch(tab().getYasqe()), 0));
  yasgui.on("query", (instance, queried) => watch(queried.getYasqe()));

  // Drawing and graph downloads need triples: say so instead of following a link to a 400.
  function needsGraph(event, what) {
    const kind = (tab().getYasqe().getQueryType() || "").toUpperCase();
    if (kind === "CONSTRUCT" || kind === "DESCRIBE") return false;
    event.preventDefault();
    showError(what + " needs a CONSTRUCT or DESCRIBE query",
      "This is " + (kind ? "a " + kind + " query" : "not a query") + ", whose answer is a table."
      + " A graph comes from CONSTRUCT { ?s ?p ?o } WHERE { ... } or DESCRIBE ?c WHERE { ?c a ag:Country };"
      + " the table's downloads are JSON, XML, CSV and TSV.", null);
    return true;
  }

  document.querySelectorAll("button.example").forEach((button) => {
    button.addEventListener("click", () => {
      const example = config.examples[Number(button.dataset.example)];
      tab().setQuery(example.text);
      tab().query();
    });
  });

  // Download links are built from the query in the editor when they are clicked.
  document.querySelectorAll(".downloads a").forEach((link) => {
    link.addEventListener("click", (event) => {
      const query = encodeURIComponent(currentQuery());
      const kind = link.parentElement.dataset.kind;
      if (kind !== "select" && needsGraph(event, "This download")) return;
      link.href = kind === "export"
        ? config.exportBase + link.dataset.format + "?query=" + query
        : config.endpoint + "?query=" + query + "&format=" + link.dataset.format;
    });
  });
  document.querySelector("a.explore-link").addEventListener("click", (event) => {
    if (needsGraph(event, "Drawing")) return;
    event.currentTarget.href = config.explore + "?query=" + encodeURIComponent(currentQuery());
  });

  // IRIs of this graph open their page on this server, whatever host the data names.
  // A result's IRI that is not http(s) (javascript:, data: ...) is never followed.
  document.getElementById("yasgui").addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link) return;
    if (!window.kgLinks.safeHref(link.getAttribute("href"))) {
      event.preventDefault();
      return;
    }
    if (!link.href.startsWith(config.base)) return;
    event.preventDefault();
    window.location.assign("/" + link.href.substring(config.base.length));
  }, true);
})();
