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
  function fetchPage(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (resp) { return resp.ok ? resp.text() : Promise.reject(resp.status); })
      .then(function (html) { return new DOMParser().parseFromString(html, "text/html"); });
  }
  // "Older posts" brings the next page into this one (the link still works
  // without this file, and does its plain job if the fetch fails).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("nav.paging a[rel=next]");
    var feed = document.querySelector("section.feed");
    if (!link || !feed) return;
    event.preventDefault();
    link.textContent = "Loading older posts…";
    fetchPage(link.href).then(function (doc) {
      var first = null;
      doc.querySelectorAll("section.feed article.status").forEach(function (card) {
        if (document.getElementById(card.id)) return;
        var mine = document.importNode(card, true);
        feed.appendChild(mine);
        first = first || mine;
      });
      var nav = link.closest("nav.paging");
      var next = doc.querySelector("nav.paging");
      if (next) nav.replaceWith(document.importNode(next, true)); else nav.remove();
      if (first) { first.setAttribute("tabindex", "-1"); first.focus(); }
    }).catch(function () { window.location.href = link.href; });
  });
  // New posts from the streaming API: a button says how many came, and
  // shows them (the first page, fetched again); deleted ones leave at once.
  var live = document.querySelector("section.feed[data-stream]");
  if (live && window.EventSource) {
    var waiting = 0;
    var bar = document.createElement("p");
    bar.className = "live";
    bar.setAttribute("role", "status");
    var show = document.createElement("button");
    show.type = "button";
    show.hidden = true;
    bar.appendChild(show);
    live.parentNode.insertBefore(bar, live);
    var source = new EventSource("/api/v1/streaming/" + live.getAttribute("data-stream"));
    source.addEventListener("update", function (event) {
      var status;
      try { status = JSON.parse(event.data); } catch (e) { return; }
      var shown = status.reblog ? status.reblog.id : status.id;  // a card shows the post
      if (document.getElementById("status-" + shown)) return;
      waiting += 1;
      show.textContent = waiting === 1 ? "1 new post: show it" : waiting + " new posts: show them";
      show.hidden = false;
    });
    source.addEventListener("delete", function (event) {
      var gone = document.getElementById("status-" + event.data);
      if (gone) gone.remove();
    });
    show.addEventListener("click", function () {
      fetchPage(window.location.href).then(function (doc) {
        var fresh = doc.querySelector("section.feed");
        if (!fresh) return;
        live.replaceChildren.apply(live, Array.from(fresh.childNodes, function (n) {
          return document.importNode(n, true);
        }));
        waiting = 0;
        show.hidden = true;
        var top = live.querySelector("article.status");
        if (top) { top.setAttribute("tabindex", "-1"); top.focus(); }
      });
    });
  }
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
