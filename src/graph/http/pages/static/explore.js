// The graph explorer: starts from one resource and grows as nodes are clicked (each click
// fetches that node's neighbourhood from the server), or draws a CONSTRUCT's triples whole.
// One colour per class (graphstyle.js) with a legend; search dims what does not match and
// zooms on what does; fcose lays the drawing out, keeping what is already placed.
(function () {
  "use strict";
  const container = document.getElementById("cy");
  const status = document.getElementById("status");
  const style = window.kgGraphStyle;
  const pal = style.palette();
  const passages = container.dataset.passages === "1";
  const expanded = new Set();
  const cy = window.cytoscape({
    container, elements: [], style: style.stylesheet(), minZoom: 0.1, maxZoom: 4,
  });
  window.kgCy = cy;
  style.hoverLabels(cy);

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" } })
      .then((response) => response.ok ? response.json()
        : response.text().then((text) => { throw new Error(text); }));
  }

  function layout(fixed) {
    const options = { name: "fcose", animate: false, randomize: !fixed, quality: "proof",
      nodeDimensionsIncludeLabels: true, idealEdgeLength: () => 110, nodeRepulsion: () => 9000,
      nodeSeparation: 90, padding: 40 };
    if (fixed) options.fixedNodeConstraint = [{ nodeId: fixed.id(), position: fixed.position() }];
    cy.layout(options).run();
  }

  // Fit the drawing, but never zoom in so far that a few nodes fill the screen.
  function fitGently() {
    cy.fit(undefined, 40);
    if (cy.zoom() > 1.1) { cy.zoom(1.1); cy.center(); }
  }

  function report(extra) {
    status.textContent = `${cy.nodes().length} nodes, ${cy.edges().length} links` + (extra || "");
  }

  // Add a neighbourhood to the drawing: new nodes start around the node they hang from.
  function grow(iri) {
    if (expanded.has(iri)) return Promise.resolve();
    status.textContent = "Loading…";
    const url = container.dataset.neighbourhood + "?" + new URLSearchParams(
      { focus: iri, passages: passages ? "1" : "0" });
    return getJson(url).then((answer) => {
      expanded.add(iri);
      const first = cy.nodes().length === 0;
      const anchor = cy.getElementById(iri);
      const centre = anchor.nonempty() ? anchor.position() : { x: 0, y: 0 };
      const added = cy.add(answer.elements
        .filter((e) => cy.getElementById(e.data.id).empty())
        .map((e) => {
          if (!first) e.data.centre = false;
          if (e.data.source) return e;
          return Object.assign(e, { position: { x: centre.x + (Math.random() - 0.5) * 80,
            y: centre.y + (Math.random() - 0.5) * 80 } });
        }));
      style.paint(added.nodes(), pal);
      const node = cy.getElementById(iri);
      node.addClass("expanded");
      layout(first ? null : node);
      if (first) fitGently();
      else cy.animate({ fit: { eles: cy.elements(), padding: 40 } }, { duration: 250,
        complete: () => { if (cy.zoom() > 1.1) { cy.zoom(1.1); cy.center(node); } } });
      refreshLegend();
      select(node);
      report(answer.more ? " (some neighbours of this node are not drawn)" : "");
    }).catch((error) => { status.textContent = error.message; });
  }

  function drawQuery(url) {
    getJson(url).then((elements) => {
      cy.add(elements);
      style.paint(cy.nodes(), pal);
      layout(null);
      fitGently();
      refreshLegend();
      report();
    }).catch((error) => { status.textContent = error.message; });
  }

  function refreshLegend() {
    style.legend(document.getElementById("legend"), cy, pal, (name, shown) => {
      cy.nodes().filter((n) => n.data("class") === name)
        .style("display", shown ? "element" : "none");
    });
  }

  function select(node) {
    const panel = document.getElementById("selected");
    panel.hidden = false;
    document.getElementById("selected-label").textContent = node.data("label");
    document.getElementById("selected-class").textContent =
      node.data("classLabel") || node.data("class") || "";
    const link = document.getElementById("selected-link");
    const target = window.kgLinks.safeHref(node.data("href"));
    if (target) { link.href = target; link.hidden = false; } else {
      link.removeAttribute("href"); link.hidden = true;
    }
  }

  cy.on("tap", "node", (event) => {
    const node = event.target;
    select(node);
    if (container.dataset.focus) grow(node.id());
  });

  // Search: nodes of the drawing whose label holds the text are outlined and zoomed on,
  // the rest dimmed; Enter looks the text up in the whole graph.
  const search = document.getElementById("search");
  search.addEventListener("input", () => focusOn(search.value.trim().toLowerCase()));
  search.form.addEventListener("submit", (event) => {
    if (document.activeElement !== search || !container.dataset.focus) return;
    event.preventDefault();
    const text = search.value.trim();
    if (!text) return;
    if (focusOn(text.toLowerCase())) return;
    getJson(container.dataset.find + "?" + new URLSearchParams({ q: text })).then((found) => {
      showMatches(found);
      if (found.length) grow(found[0].iri).then(() => focusOn(text.toLowerCase()));
      else status.textContent = `Nothing is named “${text}”.`;
    }).catch((error) => { status.textContent = error.message; });
  });

  function focusOn(term) {
    cy.elements().removeClass("dimmed");
    cy.nodes().removeClass("match");
    if (!term) { report(); return 0; }
    const found = cy.nodes().filter((n) => String(n.data("label")).toLowerCase().includes(term));
    if (!found.length) { status.textContent = "No node of the drawing matches; press Enter to look further"; return 0; }
    found.addClass("match");
    cy.elements().not(found).not(found.connectedEdges()).addClass("dimmed");
    // Zoom on the matches, but no closer than life-size and a little (one match: centre it).
    if (found.length === 1) cy.animate({ center: { eles: found }, zoom: 1.3 }, { duration: 300 });
    else cy.animate({ fit: { eles: found, padding: 120 } }, { duration: 300,
      complete: () => {
        if (cy.zoom() <= 1.3) return;
        const box = found.boundingBox();
        cy.zoom({ level: 1.3, position: { x: (box.x1 + box.x2) / 2, y: (box.y1 + box.y2) / 2 } });
      } });
    status.textContent = `${found.length} node(s) match`;
    return found.length;
  }

  function showMatches(found) {
    const list = document.getElementById("matches");
    list.replaceChildren();
    found.forEach((match) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = match.label;
      button.addEventListener("click", () => grow(match.iri));
      item.append(button);
      list.append(item);
    });
  }

  document.getElementById("passages").addEventListener("change", (event) => {
    const params = new URLSearchParams(window.location.search);
    params.set("passages", event.target.checked ? "1" : "0");
    if (container.dataset.focus && !params.get("focus")) params.set("focus", container.dataset.focus);
    window.location.search = params.toString();
  });

  if (container.dataset.elements) drawQuery(container.dataset.elements);
  else if (container.dataset.focus) grow(container.dataset.focus);
  else status.textContent = "The graph is empty.";
})();
