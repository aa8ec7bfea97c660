// Progressive touches for the node's pages; every page works without this file.
(function () {
  "use strict";
  // The compose counter: characters left against the instance's limit.
  document.querySelectorAll("textarea[data-limit]").forEach(function (area) {
    var out = area.form && area.form.querySelector("output.counter");
    if (!out) return;
    var limit = parseInt(area.getAttribute("data-limit"), 10);
    function update() {
      var left = limit - Array.from(area.value).length;
      out.textContent = left + " characters left";
      out.classList.toggle("over", left < 0);
    }
    area.addEventListener("input", update);
    update();
  });
  // Ask before deleting a post.
  document.querySelectorAll("button.danger").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm("Delete this post?")) event.preventDefault();
    });
  });
  // A part of the page that follows work in progress (an import): fetched
  // again every few seconds and swapped in, until it says the work is over.
  document.querySelectorAll("[data-refresh][id]").forEach(function (part) {
    var seconds = parseInt(part.getAttribute("data-refresh"), 10) || 5;
    function again() {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (resp) { return resp.ok ? resp.text() : Promise.reject(resp.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(part.id);
          if (!fresh) return;
          part.replaceWith(fresh);
          part = fresh;
          if (fresh.hasAttribute("data-refresh")) window.setTimeout(again, seconds * 1000);
        })
        .catch(function () { window.setTimeout(again, seconds * 4000); });
    }
    window.setTimeout(again, seconds * 1000);
  });
})();
