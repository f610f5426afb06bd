// The query editor: YASGUI against this server's /sparql, examples, downloads, local links.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("editor-config").textContent);
  const YasguiClass = window.Yasgui.default || window.Yasgui;
  const yasgui = new YasguiClass(document.getElementById("yasgui"), {
    requestConfig: {
      endpoint: config.endpoint,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json",
      acceptHeaderGraph: "text/turtle",
    },
    copyEndpointOnNewTab: false,
    persistenceId: null,
    endpointCatalogueOptions: { getData: () => [{ endpoint: config.endpoint }] },
    // No autocompleter that would call prefix.cc or LOV: the page talks to this server only.
    yasqe: { autocompleters: ["variables"] },
    yasr: { prefixes: config.prefixes },
  });
  window.kgYasgui = yasgui;

  function tab() { return yasgui.getTab(); }
  function currentQuery() { return tab().getQuery(); }

  if (!/PREFIX/i.test(currentQuery()) || currentQuery().indexOf(config.prefixes.ag) < 0) {
    tab().setQuery(config.defaultQuery);
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
    link.addEventListener("click", () => {
      const query = encodeURIComponent(currentQuery());
      const kind = link.parentElement.dataset.kind;
      link.href = kind === "export"
        ? config.exportBase + link.dataset.format + "?query=" + query
        : config.endpoint + "?query=" + query + "&format=" + link.dataset.format;
    });
  });
  document.querySelector("a.explore-link").addEventListener("click", (event) => {
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
