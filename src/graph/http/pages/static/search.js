// The search box of every page: suggestions from the reconciliation service's suggest
// service as the visitor types, each a link to the resource's page (issue 15).
(function () {
  "use strict";
  const form = document.querySelector("form.site-search");
  if (!form) return;
  const input = form.querySelector("input[name=q]");
  const list = form.querySelector("ul");
  const suggestUrl = form.dataset.suggest;
  const viewUrl = form.dataset.view;
  let timer = null;
  let asked = 0;
  // What the list shows, so that an answer naming the same results leaves it alone: rebuilding
  // it under a visitor's pointer between mousedown and mouseup swallows the click.
  let shown = "[]";

  function pagePath(id) {
    // Ids are paths under /id/ (country/honduras); each segment is encoded on its own.
    return viewUrl + id.split("/").map(encodeURIComponent).join("/");
  }

  function show(results) {
    const key = JSON.stringify(results.map((item) => [item.id, item.name, item.description]));
    list.hidden = results.length === 0;
    if (key === shown) return;
    shown = key;
    list.replaceChildren();
    for (const item of results) {
      const link = document.createElement("a");
      link.href = pagePath(item.id);
      link.textContent = item.name;
      if (item.description) {
        const kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = item.description;
        link.append(kind);
      }
      const entry = document.createElement("li");
      entry.setAttribute("role", "option");
      entry.append(link);
      list.append(entry);
    }
  }

  async function suggest() {
    const prefix = input.value.trim();
    const mine = ++asked;
    if (!prefix) { show([]); return; }
    const response = await fetch(suggestUrl + "?limit=8&prefix=" + encodeURIComponent(prefix));
    if (!response.ok || mine !== asked) return;
    show((await response.json()).result);
  }

  function move(step) {
    const links = [...list.querySelectorAll("a")];
    if (!links.length) return;
    const now = links.findIndex((a) => a.classList.contains("active"));
    links.forEach((a) => a.classList.remove("active"));
    links[(now + step + links.length) % links.length].classList.add("active");
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") { move(1); event.preventDefault(); }
    else if (event.key === "ArrowUp") { move(-1); event.preventDefault(); }
    else if (event.key === "Escape") { show([]); }
    else if (event.key === "Enter") {
      const active = list.querySelector("a.active");
      if (active) { event.preventDefault(); window.location.assign(active.href); }
    }
  });
  document.addEventListener("click", (event) => {
    if (!form.contains(event.target)) list.hidden = true;
  });
})();
