// Where a click on a node or a result may take the browser: http(s) only (issue 11, item 5).
// A node's IRI can be anything a query constructs or the data holds, "javascript:" included;
// the server already leaves such IRIs without an href, and this is the browser's own check.
(function () {
  "use strict";
  const SCHEMES = ["http:", "https:"];
  function safeHref(href) {
    if (typeof href !== "string" || !href) return null;
    let url;
    try {
      url = new URL(href, window.location.href);
    } catch (error) {
      return null;
    }
    return SCHEMES.includes(url.protocol) ? url.href : null;
  }
  function follow(href) {
    const target = safeHref(href);
    if (target) window.location.assign(target);
  }
  window.kgLinks = { safeHref, follow };
})();
