// The small picture of a resource's neighbourhood on its page.
(function () {
  "use strict";
  const container = document.getElementById("neighbourhood");
  if (!container) return;
  const elements = JSON.parse(document.getElementById("neighbourhood-elements").textContent);
  const cy = window.cytoscape({
    container, elements,
    style: window.kgGraphStyle ? window.kgGraphStyle.stylesheet({}) : [],
    layout: { name: "concentric", concentric: (n) => (n.data("centre") ? 2 : 1), minNodeSpacing: 30 },
    userZoomingEnabled: false,
  });
  window.kgCy = cy;
  cy.on("tap", "node", (event) => {
    const href = event.target.data("href");
    if (href && !event.target.data("centre")) window.location.href = href;
  });
})();
