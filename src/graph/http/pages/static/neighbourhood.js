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
    if (!event.target.data("centre")) window.kgLinks.follow(event.target.data("href"));
  });
})();
