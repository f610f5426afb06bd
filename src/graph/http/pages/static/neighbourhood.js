// The picture of a resource's neighbourhood on its page: the resource in the middle, what it
// links to and what links to it on an ellipse around it, each label on the outer side of its
// node, the ellipse widened until no two labels overlap; colours by class, with a legend.
(function () {
  "use strict";
  const container = document.getElementById("neighbourhood");
  if (!container) return;
  const elements = JSON.parse(document.getElementById("neighbourhood-elements").textContent);
  const style = window.kgGraphStyle;
  const pal = style.palette();
  const cy = window.cytoscape({
    container, elements, style: style.stylesheet(), layout: { name: "preset" },
    minZoom: 0.2, maxZoom: 4,
  });
  style.paint(cy.nodes(), pal);
  const centre = cy.nodes("[?centre]");
  const others = cy.nodes().not(centre).sort((a, b) =>
    String(a.data("class")).localeCompare(String(b.data("class")))
    || String(a.data("label")).localeCompare(String(b.data("label"))));

  // Place the others on an ellipse of half-widths (rx, ry); two rings when they are many.
  function place(rx, ry) {
    centre.position({ x: 0, y: 0 });
    const n = others.length;
    others.forEach((node, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1);
      const ring = n > 14 && i % 2 ? 1.3 : 1;
      const cos = Math.cos(angle), sin = Math.sin(angle);
      node.position({ x: rx * ring * cos, y: ry * ring * sin });
      // The label goes on the side away from the centre.
      node.style({
        "text-halign": cos > 0.3 ? "right" : cos < -0.3 ? "left" : "center",
        "text-valign": Math.abs(cos) > 0.3 ? "center" : sin < 0 ? "top" : "bottom",
        "text-margin-x": cos > 0.3 ? 4 : cos < -0.3 ? -4 : 0,
      });
    });
    centre.style({ "text-valign": "bottom", "text-halign": "center", "text-margin-y": 4 });
  }

  function labelBox(node) {
    return node.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true });
  }

  function overlapping() {
    const boxes = cy.nodes().map(labelBox);
    for (let i = 0; i < boxes.length; i += 1) {
      for (let j = i + 1; j < boxes.length; j += 1) {
        const a = boxes[i], b = boxes[j];
        if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) return true;
      }
    }
    return false;
  }

  let rx = 220, ry = 130;
  place(rx, ry);
  for (let step = 0; step < 100 && overlapping(); step += 1) {
    rx *= 1.05;
    ry *= 1.05;
    place(rx, ry);
  }
  cy.fit(undefined, 30);
  if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }  // a few nodes: keep them life-size
  // Many neighbours: a taller picture rather than labels under 9 px (13 px at 0.72).
  const legible = 0.72;
  if (cy.zoom() < legible) {
    const box = cy.elements().boundingBox({ includeLabels: true });
    const container = cy.container();
    container.style.height = `${Math.ceil(box.h * legible + 60)}px`;
    cy.resize();
    cy.fit(undefined, 30);
    if (cy.zoom() < legible) { cy.zoom(legible); cy.center(); }
  }
  window.kgCy = cy;
  style.hoverLabels(cy);
  const legend = document.getElementById("neighbourhood-legend");
  if (legend) style.legend(legend, cy, pal, null);
  cy.on("tap", "node", (event) => {
    if (!event.target.data("centre")) window.kgLinks.follow(event.target.data("href"));
  });
})();
