// The discussion: keeps open threads up to date, completes @names, quotes a passage
// selected in the article, and gives the threads their keys.
//
// The page polls its article's discussion every few seconds with the stamp it
// last saw; the server answers 204 while nothing changed, else every thread the
// user may see. A thread is updated in place, never while someone is typing in
// it or editing one of its comments (it waits for the next poll); a new thread
// joins the list on the page that shows its kind (its claim's, the article's).
(() => {
  "use strict";

  const panels = Array.from(document.querySelectorAll("section.discussion[data-poll-url]"));
  if (!panels.length) return;
  const first = panels[0];
  let stamp = first.dataset.stamp || "";
  const every = Math.max(2, Number(first.dataset.pollSeconds || 5)) * 1000;

  // ---- Polling ------------------------------------------------------------

  const typedIn = (el) => Array.from(el.querySelectorAll("textarea")).some(
    (t) => t.value.trim() !== "" || t === document.activeElement
  );
  const busy = (thread) => thread.querySelector(".comment.editing, .comment-edit") !== null ||
    thread.querySelector(".thread-body").contains(document.activeElement) && document.activeElement.matches("textarea");

  function accepts(list, target) {
    return (list.dataset.accepts || "").split(" ").some((token) =>
      token === target || (token.endsWith("*") && target.startsWith(token.slice(0, -1))));
  }

  // Replaces `old` with `fresh`, keeping the keyboard where it was: the element with
  // the same id, or the same position among the focusable ones.
  function replaceKeepingFocus(old, fresh) {
    const active = old.contains(document.activeElement) ? document.activeElement : null;
    const focusable = (el) => Array.from(el.querySelectorAll("a[href], button, textarea, select, input:not([type=hidden])"));
    const at = active ? focusable(old).indexOf(active) : -1;
    old.replaceWith(fresh);
    htmx.process(fresh);
    if (!active) return;
    const again = (active.id && document.getElementById(active.id)) || focusable(fresh)[at];
    if (again) again.focus({ preventScroll: true });
  }

  function update(fresh) {
    const old = document.getElementById(fresh.id);
    if (!old) {
      const list = Array.from(document.querySelectorAll(".thread-list")).find((l) => accepts(l, fresh.dataset.target));
      if (!list) return true;
      list.querySelectorAll(".no-threads").forEach((e) => e.remove());
      list.append(fresh);
      htmx.process(fresh);
      decorateClaims();
      return true;
    }
    if (old.dataset.version === fresh.dataset.version) return true;
    if (busy(old)) return false;
    const actions = old.querySelector(".thread-actions");
    if (old.dataset.resolved !== fresh.dataset.resolved && !(actions && typedIn(actions))) {
      replaceKeepingFocus(old, fresh);
      return true;
    }
    replaceKeepingFocus(old.querySelector(".thread-body"), fresh.querySelector(".thread-body"));
    old.className = fresh.className;
    old.dataset.version = fresh.dataset.version;
    return true;
  }

  let polling = false;
  async function poll() {
    if (polling || document.hidden) return;
    polling = true;
    try {
      const response = await fetch(`${first.dataset.pollUrl}?stamp=${encodeURIComponent(stamp)}`, {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
      if (response.status !== 200) return;
      const holder = document.createElement("template");
      holder.innerHTML = await response.text();
      const root = holder.content.querySelector(".discussion-poll");
      if (!root) return;
      let complete = true;
      for (const thread of Array.from(root.querySelectorAll("article.thread"))) {
        if (!update(thread)) complete = false;
      }
      // A thread left alone (someone typing in it) is taken again at the next poll.
      if (complete) stamp = root.dataset.stamp;
    } catch (error) {
      // The next poll tries again; htmx's own requests say when the server is gone.
    } finally {
      polling = false;
    }
  }
  setInterval(poll, every);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });

  // After this page's own change (a reply, a new thread), the next poll need not
  // bring it back; the stamp moves on with the server's answer.
  document.body.addEventListener("htmx:afterRequest", (event) => {
    const elt = event.detail.elt;
    if (!elt.closest || !elt.closest(".discussion")) return;
    const status = event.detail.xhr.status;
    const form = elt.closest("form.new-thread");
    if (form && status >= 200 && status < 300) resetNewThread(form);
    if (status >= 200 && status < 300) setTimeout(poll, 50);
  });

  // ---- What a new thread is about (the reader) ----------------------------

  function setAbout(form, target, label) {
    const input = form.querySelector("input[name=target]");
    if (!input) return;
    input.value = target;
    const shown = form.querySelector(".about-label");
    shown.textContent = label;
    const reset = form.querySelector(".about-reset");
    if (reset) reset.hidden = target === input.dataset.default;
    const request = form.querySelector(".request-changes");
    if (request) request.hidden = !target.startsWith("claim-");
  }

  function resetNewThread(form) {
    form.querySelector("textarea").value = "";
    form.querySelector(".form-errors").replaceChildren();
    clearQuote(form);
    const input = form.querySelector("input[name=target]");
    const label = form.querySelector(".about-label");
    if (input && label) setAbout(form, input.dataset.default, label.dataset.default);
    document.querySelectorAll(".thread-list .no-threads").forEach((e) => {
      if (e.parentElement.querySelector("article.thread")) e.remove();
    });
  }

  const readerForm = document.querySelector("#discussion-reader form.new-thread");

  function discussClaim(id) {
    if (!readerForm) return;
    const item = document.getElementById(`item-${id}`);
    const quote = item ? item.querySelector("q").textContent : "";
    setAbout(readerForm, `claim-${id}`, `the claim “${quote.length > 60 ? quote.slice(0, 59) + "…" : quote}”`);
    const area = readerForm.querySelector("textarea");
    area.scrollIntoView({ block: "nearest" });
    area.focus();
  }

  // Each claim of the list gets a "Discuss" button (the list is redrawn after each change).
  function decorateClaims() {
    if (!readerForm) return;
    document.querySelectorAll("#claim-list .claim-item").forEach((item) => {
      if (item.querySelector(".discuss")) return;
      const count = document.querySelectorAll(`#discussion-reader article.thread[data-target="claim-${item.dataset.claim}"]`).length;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link discuss";
      button.dataset.claim = item.dataset.claim;
      button.textContent = count ? `Discuss (${count} thread${count === 1 ? "" : "s"})` : "Discuss";
      button.setAttribute("aria-label", `Discuss the claim “${item.querySelector("q").textContent.slice(0, 60)}”`);
      (item.querySelector(".claim-meta") || item).append(" ", button);
    });
  }
  if (readerForm) {
    const request = readerForm.querySelector(".request-changes");
    if (request) request.hidden = true;
    readerForm.querySelector(".about-reset")?.addEventListener("click", () => {
      const input = readerForm.querySelector("input[name=target]");
      setAbout(readerForm, input.dataset.default, readerForm.querySelector(".about-label").dataset.default);
    });
  }
  decorateClaims();
  document.body.addEventListener("htmx:afterSettle", decorateClaims);

  // ---- Quoting a passage of the article -----------------------------------

  const text = document.getElementById("reader-text");
  let lastSelection = null;
  const codePoints = (s) => Array.from(s).length;

  function offsetOf(node, offset) {
    const seg = node.nodeType === Node.TEXT_NODE ? node.parentElement.closest("[data-s]") : null;
    if (seg) return Number(seg.dataset.s) + codePoints(node.data.slice(0, offset));
    const probe = document.createRange();
    probe.setStart(node, offset);
    const after = Array.from(text.querySelectorAll("[data-s]")).find((s) => probe.comparePoint(s, 0) >= 0);
    return after ? Number(after.dataset.s) : null;
  }

  if (text) {
    const chars = Array.from(JSON.parse(document.getElementById("article-text").textContent));
    document.addEventListener("selectionchange", () => {
      const selection = window.getSelection();
      if (!selection.rangeCount || selection.isCollapsed) return;
      const range = selection.getRangeAt(0);
      if (!text.contains(range.commonAncestorContainer)) return;
      let start = offsetOf(range.startContainer, range.startOffset);
      let end = offsetOf(range.endContainer, range.endOffset);
      if (start === null || end === null) return;
      while (start < end && /\s/u.test(chars[start])) start += 1;
      while (end > start && /\s/u.test(chars[end - 1])) end -= 1;
      if (end > start) lastSelection = { start, end, quote: chars.slice(start, end).join("") };
    });
  }

  function clearQuote(form) {
    for (const name of ["quote_start", "quote_end", "quote"]) {
      const input = form.querySelector(`input[name=${name}]`);
      if (input) input.value = "";
    }
    const shown = form.querySelector(".pending-quote");
    if (shown) { shown.hidden = true; shown.textContent = ""; }
  }

  function quoteInto(form) {
    const status = form.querySelector(".form-errors");
    if (!lastSelection) {
      status.innerHTML = "";
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = "Select a passage of the article first, then quote it.";
      status.append(p);
      return;
    }
    form.querySelector("input[name=quote_start]").value = lastSelection.start;
    form.querySelector("input[name=quote_end]").value = lastSelection.end;
    form.querySelector("input[name=quote]").value = lastSelection.quote;
    const shown = form.querySelector(".pending-quote");
    shown.textContent = lastSelection.quote;
    shown.hidden = false;
    status.replaceChildren();
    form.querySelector("textarea").focus();
  }

  // ---- @name completion ---------------------------------------------------

  const mentionsUrl = first.dataset.mentionsUrl;
  let menu = null; // {area, list, start}
  let menuTimer = null;
  let menuRequest = null;

  function closeMenu() {
    if (!menu) return;
    menu.list.remove();
    menu.area.removeAttribute("aria-activedescendant");
    menu.area.setAttribute("aria-expanded", "false");
    menu = null;
  }

  function options() {
    return menu ? Array.from(menu.list.querySelectorAll(".mention-option:not([aria-disabled])")) : [];
  }

  function choose(index) {
    const all = options();
    if (!all.length) return;
    const i = (index + all.length) % all.length;
    all.forEach((o, n) => o.setAttribute("aria-selected", n === i ? "true" : "false"));
    menu.area.setAttribute("aria-activedescendant", all[i].id);
    all[i].scrollIntoView({ block: "nearest" });
  }

  function pick(option) {
    const area = menu.area;
    const before = area.value.slice(0, menu.start);
    const after = area.value.slice(area.selectionStart);
    const name = `@${option.dataset.name} `;
    area.value = before + name + after.replace(/^[\w.@+-]*/u, "");
    const caret = before.length + name.length;
    area.setSelectionRange(caret, caret);
    closeMenu();
    area.focus();
  }

  function lookUp(area) {
    const upTo = area.value.slice(0, area.selectionStart);
    const found = /(^|[^\w@.+-])@([\w.@+-]{0,30})$/u.exec(upTo);
    if (!found) return closeMenu();
    const start = upTo.length - found[2].length - 1;
    clearTimeout(menuTimer);
    menuTimer = setTimeout(async () => {
      if (menuRequest) menuRequest.abort();
      menuRequest = new AbortController();
      const thread = area.dataset.thread ? `&thread=${area.dataset.thread}` : "";
      try {
        const response = await fetch(`${mentionsUrl}?q=${encodeURIComponent(found[2])}${thread}`, {
          signal: menuRequest.signal, headers: { Accept: "text/html" },
        });
        if (!response.ok) return;
        const html = await response.text();
        closeMenu();
        const list = document.createElement("ul");
        list.className = "mention-list";
        list.id = `mentions-${area.id}`;
        list.setAttribute("role", "listbox");
        list.setAttribute("aria-label", "Members to mention");
        list.innerHTML = html;
        list.querySelectorAll(".mention-option").forEach((o, n) => { o.id = `${list.id}-${n}`; });
        area.insertAdjacentElement("afterend", list);
        area.setAttribute("aria-controls", list.id);
        area.setAttribute("aria-expanded", "true");
        menu = { area, list, start };
        choose(0);
      } catch (error) {
        // Completion is a help: typing the name in full works as well.
      }
    }, 120);
  }

  function setUpArea(area) {
    if (area.dataset.ready) return;
    area.dataset.ready = "1";
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-expanded", "false");
  }
  document.querySelectorAll("textarea[data-mentions]").forEach(setUpArea);
  document.body.addEventListener("htmx:afterSettle", () =>
    document.querySelectorAll("textarea[data-mentions]").forEach(setUpArea));

  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches(".discussion textarea[data-mentions]")) lookUp(event.target);
  });
  document.addEventListener("click", (event) => {
    const option = event.target.closest(".mention-option");
    if (option && menu && !option.hasAttribute("aria-disabled")) {
      pick(option);
      return;
    }
    if (menu && !event.target.closest(".mention-list")) closeMenu();
    const discuss = event.target.closest(".discuss");
    if (discuss) {
      discussClaim(discuss.dataset.claim);
      return;
    }
    const quote = event.target.closest(".quote-selection");
    if (quote) quoteInto(quote.closest("form"));
    const pending = event.target.closest(".pending-quote");
    if (pending) clearQuote(pending.closest("form"));
  });

  // ---- Keys ---------------------------------------------------------------

  const typing = (target) => target.closest && target.closest("input, textarea, select, [contenteditable]");

  document.addEventListener("keydown", (event) => {
    const area = event.target.closest && event.target.closest(".discussion textarea");
    if (area && menu && menu.area === area) {
      const all = options();
      const at = all.findIndex((o) => o.getAttribute("aria-selected") === "true");
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        choose(at + (event.key === "ArrowDown" ? 1 : -1));
        event.preventDefault();
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && at >= 0) {
        pick(all[at]);
        event.preventDefault();
        return;
      }
      if (event.key === "Escape") {
        closeMenu();
        event.preventDefault();
        event.stopPropagation();
        return;
      }
    }
    if (area && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      area.closest("form").requestSubmit();
      return;
    }
    if (area && event.key === "Escape" && area.closest(".comment-edit")) {
      area.closest(".comment-edit").querySelector(".cancel-edit").click();
      event.preventDefault();
      return;
    }
    if (event.key !== "c" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    // c: comment on the current claim (the reader), or in the current unit (adjudication).
    const current = document.querySelector("#claim-list .claim-item.current");
    if (readerForm) {
      if (current) discussClaim(current.dataset.claim);
      else readerForm.querySelector("textarea").focus();
    } else {
      const unit = document.querySelector("section.unit.current") || document;
      const area2 = unit.querySelector(".discussion form.new-thread textarea");
      if (!area2) return;
      area2.scrollIntoView({ block: "nearest" });
      area2.focus();
    }
    event.preventDefault();
  }, true);

  // A link to a thread or a comment (from the inbox) shows it in the side panel.
  const shown = location.hash && document.getElementById(location.hash.slice(1));
  if (shown && shown.closest(".discussion")) {
    shown.scrollIntoView({ block: "center" });
    (shown.closest("article.thread") || shown).classList.add("flash");
  }
})();
