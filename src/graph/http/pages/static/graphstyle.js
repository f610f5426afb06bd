// Shared look of graph drawings: one colour per class from Tableau 20, a palette made for
// categories (https://www.tableau.com/blog/colors-upgrade-tableau-10-56782): its ten strong
// colours first, then their ten light partners; past twenty classes the colours come round
// again with another shape, so no two classes look alike.
window.kgGraphStyle = (function () {
  "use strict";
  const colours = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#b6992d", "#499894",
    "#d37295", "#9d7660", "#79706e",
    "#a0cbe8", "#ffbe7d", "#8cd17d", "#ff9d9a", "#d4a6c8", "#f1ce63", "#86bcb6", "#fabfd2",
    "#d7b5a6", "#bab0ac"];
  const shapes = ["ellipse", "round-rectangle", "diamond", "hexagon", "triangle", "star"];
  const UNTYPED = "#d0d0d0";

  // A palette that hands each class the next free colour the first time it is seen, so a
  // drawing that grows (the explorer) keeps the colours it has shown.
  function palette() {
    const map = {};
    let next = 0;
    function look(name) {
      if (!name) return { colour: UNTYPED, shape: "ellipse" };
      if (!map[name]) {
        map[name] = { colour: colours[next % colours.length],
          shape: shapes[Math.floor(next / colours.length) % shapes.length] };
        next += 1;
      }
      return map[name];
    }
    return { look, classes: () => Object.keys(map) };
  }

  // Give each node its colour and shape as data, so the stylesheet maps them.
  function paint(nodes, pal) {
    nodes.forEach((node) => {
      const look = pal.look(node.data("class"));
      node.data("colour", look.colour);
      node.data("shape", look.shape);
    });
  }

  function stylesheet() {
    return [
      { selector: "node", style: { "label": "data(label)", "font-size": 13, "color": "#1b1b1b",
        "text-wrap": "wrap", "text-max-width": 150, "width": 22, "height": 22,
        "background-color": "data(colour)", "shape": "data(shape)",
        "border-width": 1, "border-color": "#ffffff",
        "text-background-color": "#ffffff", "text-background-opacity": 0.85,
        "text-background-padding": 1, "min-zoomed-font-size": 7 } },
      { selector: "node[!colour]", style: { "background-color": UNTYPED } },
      { selector: "node[!shape]", style: { "shape": "ellipse" } },
      { selector: "node[?centre]", style: { "width": 40, "height": 40, "font-size": 16,
        "font-weight": "bold", "border-width": 3, "border-color": "#16324f" } },
      { selector: "edge", style: { "width": 1.5, "curve-style": "bezier",
        "target-arrow-shape": "triangle", "line-color": "#b5b5b5", "target-arrow-color": "#b5b5b5",
        "label": "", "font-size": 11, "color": "#444", "text-rotation": "autorotate",
        "text-background-color": "#ffffff", "text-background-opacity": 0.9 } },
      { selector: "edge.shown", style: { "label": "data(label)", "line-color": "#555",
        "target-arrow-color": "#555", "z-index": 10 } },
      { selector: "node.match", style: { "border-width": 4, "border-color": "#000" } },
      { selector: ".dimmed", style: { "opacity": 0.15 } },
      { selector: "node.expanded", style: { "border-width": 3, "border-color": "#16324f" } },
    ];
  }

  // Show the property names of a node's edges while the pointer is on it (or on an edge).
  function hoverLabels(cy) {
    cy.on("mouseover", "node", (e) => e.target.connectedEdges().addClass("shown"));
    cy.on("mouseout", "node", (e) => e.target.connectedEdges().removeClass("shown"));
    cy.on("mouseover", "edge", (e) => e.target.addClass("shown"));
    cy.on("mouseout", "edge", (e) => e.target.removeClass("shown"));
  }

  // Fill a legend list with one entry per class of the drawing (colour, shape, name, count).
  function legend(list, cy, pal, onToggle) {
    list.replaceChildren();
    pal.classes().forEach((name) => {
      const nodes = cy.nodes().filter((n) => n.data("class") === name);
      if (!nodes.length) return;
      const look = pal.look(name);
      const item = document.createElement("li");
      const label = document.createElement("label");
      const swatch = document.createElement("span");
      swatch.className = "swatch swatch-" + look.shape;
      swatch.style.background = look.colour;
      const raw = nodes[0].data("classLabel") || name;
      const text = raw.charAt(0).toUpperCase() + raw.slice(1);
      if (onToggle) {
        const box = document.createElement("input");
        box.type = "checkbox";
        box.checked = nodes.every((n) => n.style("display") !== "none");
        box.addEventListener("change", () => onToggle(name, box.checked));
        label.append(box);
      }
      label.append(swatch, document.createTextNode(` ${text} (${nodes.length})`));
      label.title = name;
      item.append(label);
      list.append(item);
    });
  }

  return { palette, paint, stylesheet, hoverLabels, legend };
})();
