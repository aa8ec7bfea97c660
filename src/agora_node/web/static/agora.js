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
})();
