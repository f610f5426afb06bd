// Shared look of graph drawings: one colour and shape per class, decided by the class name.
window.kgGraphStyle = (function () {
  "use strict";
  const colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173"];
  const shapes = ["ellipse", "round-rectangle", "diamond", "hexagon", "triangle", "star",
    "pentagon", "octagon", "barrel", "vee", "rhomboid", "tag"];
  function look(classes) {
    const sorted = Array.from(new Set(classes)).sort();
    const map = {};
    sorted.forEach((name, i) => {
      map[name] = { colour: colours[i % colours.length], shape: shapes[i % shapes.length] };
    });
    return map;
  }
  function stylesheet(map) {
    const rules = [
      { selector: "node", style: { "label": "data(label)", "font-size": 9, "text-wrap": "ellipsis",
        "text-max-width": 120, "width": 18, "height": 18, "background-color": "#999" } },
      { selector: "edge", style: { "label": "data(label)", "font-size": 7, "width": 1,
        "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#bbb",
        "target-arrow-color": "#bbb", "color": "#666", "text-rotation": "autorotate" } },
      { selector: "node.match", style: { "border-width": 4, "border-color": "#000" } },
      { selector: "node[?centre]", style: { "width": 30, "height": 30 } },
    ];
    Object.keys(map).forEach((name) => {
      rules.push({ selector: `node[class = ${JSON.stringify(name)}]`,
        style: { "background-color": map[name].colour, "shape": map[name].shape } });
    });
    return rules;
  }
  return { look, stylesheet };
})();
