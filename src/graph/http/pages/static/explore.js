// The graph explorer: draw, colour by class with a legend, filter by class, search, open pages.
(function () {
  "use strict";
  const container = document.getElementById("cy");
  const status = document.getElementById("status");
  fetch(container.dataset.elements, { headers: { Accept: "application/json" } })
    .then((response) => response.ok ? response.json()
      : response.text().then((text) => { throw new Error(text); }))
    .then(draw)
    .catch((error) => { status.textContent = error.message; });

  function draw(elements) {
    const classes = elements.filter((e) => !e.data.source).map((e) => e.data.class);
    const look = window.kgGraphStyle.look(classes);
    const cy = window.cytoscape({
      container, elements, style: window.kgGraphStyle.stylesheet(look),
      layout: { name: "cose", animate: false, nodeRepulsion: 8000 }, wheelSensitivity: 0.3,
    });
    window.kgCy = cy;
    status.textContent = `${cy.nodes().length} nodes, ${cy.edges().length} edges`;
    legend(cy, look);
    cy.on("tap", "node", (event) => {
      window.kgLinks.follow(event.target.data("href"));
    });
    document.getElementById("search").addEventListener("input", (event) => {
      const term = event.target.value.trim().toLowerCase();
      cy.nodes().removeClass("match");
      if (!term) return;
      const found = cy.nodes().filter((n) => String(n.data("label")).toLowerCase().includes(term));
      found.addClass("match");
      if (found.length) cy.animate({ fit: { eles: found, padding: 80 } }, { duration: 300 });
      status.textContent = `${found.length} node(s) match`;
    });
  }

  function legend(cy, look) {
    const list = document.getElementById("legend");
    Object.keys(look).forEach((name) => {
      const item = document.createElement("li");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.addEventListener("change", () => {
        const nodes = cy.nodes().filter((n) => n.data("class") === name);
        nodes.style("display", box.checked ? "element" : "none");
      });
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = look[name].colour;
      const label = document.createElement("label");
      label.append(box, swatch, document.createTextNode(
        ` ${name} (${cy.nodes().filter((n) => n.data("class") === name).length}, ${look[name].shape})`));
      item.append(label);
      list.append(item);
    });
  }
})();
