// The reader: turns a selection in the article into offsets of the stored
// text, opens the claim form beside it, and gives the page its keyboard.
//
// Offsets are never measured on the rendered DOM. Every run of text in the
// article is a segment element carrying `data-s`, the offset of its first
// character in the stored text; a point in the DOM is that offset plus the
// characters before it in its segment. Offsets count Unicode code points, as
// the server does; JavaScript strings count UTF-16 units, so an emoji would
// otherwise shift every offset after it.
(() => {
  "use strict";

  const reader = document.getElementById("reader");
  const textEl = document.getElementById("reader-text");
  if (!reader || !textEl) return;

  const canWrite = reader.dataset.canWrite === "1";
  const chars = Array.from(JSON.parse(document.getElementById("article-text").textContent));
  const WORD = /[\p{L}\p{N}\p{M}_]/u;
  const JOINER = /['’\-]/u; // inside a word: don't, well-known
  const SPACE = /\s/u;

  let segments = [];
  let paragraphs = [];
  let pristineForm = null;
  let caret = null; // keyboard selection: {start, end} while active
  let currentClaim = null;

  const refresh = () => {
    segments = Array.from(textEl.querySelectorAll("[data-s]"));
    paragraphs = Array.from(textEl.querySelectorAll("p[data-p]"));
  };

  // ---- Offsets ------------------------------------------------------------

  const codePoints = (s) => {
    let n = 0;
    for (const _ of s) n += 1;
    return n;
  };
  const segStart = (seg) => Number(seg.dataset.s);
  const segEnd = (seg) => segStart(seg) + codePoints(seg.textContent);

  function pointToOffset(node, offset) {
    if (node.nodeType === Node.TEXT_NODE && node.parentElement.matches("[data-s]")) {
      return segStart(node.parentElement) + codePoints(node.data.slice(0, offset));
    }
    // A point between elements: the start of the first segment at or after it.
    const probe = document.createRange();
    probe.setStart(node, offset);
    let lo = 0;
    let hi = segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (probe.comparePoint(segments[mid], 0) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < segments.length) return segStart(segments[lo]);
    return segments.length ? segEnd(segments[segments.length - 1]) : 0;
  }

  function offsetToPoint(offset) {
    let lo = 0;
    let hi = segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segStart(segments[mid]) <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const node = segments[found].firstChild;
    let remaining = offset - segStart(segments[found]);
    let units = 0;
    for (const ch of node.data) {
      if (remaining <= 0) break;
      units += ch.length;
      remaining -= 1;
    }
    return [node, units];
  }

  const isWord = (i) => i >= 0 && i < chars.length && (WORD.test(chars[i]) ||
    (JOINER.test(chars[i]) && WORD.test(chars[i - 1] || "") && WORD.test(chars[i + 1] || "")));

  // Trim spaces, then grow each end to the edge of the word it cuts.
  function snap(start, end) {
    while (start < end && SPACE.test(chars[start])) start += 1;
    while (end > start && SPACE.test(chars[end - 1])) end -= 1;
    if (start >= end) return null;
    while (start > 0 && isWord(start) && isWord(start - 1)) start -= 1;
    while (end < chars.length && isWord(end - 1) && isWord(end)) end += 1;
    return { start, end, quote: chars.slice(start, end).join("") };
  }

  function selectionSpan() {
    const selection = window.getSelection();
    if (!selection.rangeCount || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    // A drag that runs past the article still counts, up to the article's edge.
    if (!range.intersectsNode(textEl)) return null;
    const a = pointToOffset(range.startContainer, range.startOffset);
    const b = pointToOffset(range.endContainer, range.endOffset);
    return snap(Math.min(a, b), Math.max(a, b));
  }

  function showSelection(start, end) {
    const [startNode, startOffset] = offsetToPoint(start);
    const [endNode, endOffset] = offsetToPoint(end);
    window.getSelection().setBaseAndExtent(startNode, startOffset, endNode, endOffset);
    startNode.parentElement.scrollIntoView({ block: "nearest" });
  }

  // ---- The claim form -----------------------------------------------------

  const form = () => document.getElementById("claim-form");

  // Where the form was last put, beside its selection: a form answered with its
  // errors (a new element) goes back there rather than below the article.
  let lastPlace = null;

  function place(el, rect) {
    const width = Math.min(420, window.innerWidth - 24);
    lastPlace = {
      width: `${width}px`,
      left: `${Math.max(12, Math.min(rect.left + window.scrollX, window.scrollX + window.innerWidth - width - 12))}px`,
      top: `${rect.bottom + window.scrollY + 8}px`,
    };
    Object.assign(el.style, lastPlace);
  }

  function show(el, rect) {
    el.hidden = false;
    el.classList.remove("closed");
    if (rect) place(el, rect);
    else if (lastPlace) Object.assign(el.style, lastPlace);
    el.scrollIntoView({ block: "nearest" });
    const chosen = el.querySelector("input[name=verdict]:checked") || el.querySelector("input[name=verdict]");
    if (chosen) chosen.focus({ preventScroll: true });
  }

  function close() {
    const el = form();
    if (el) {
      el.hidden = true;
      el.classList.add("closed");
    }
  }

  function freshCreateForm() {
    let el = form();
    if (el.dataset.claim !== undefined || el.querySelector(".error, .conflict")) {
      const clean = pristineForm.cloneNode(true);
      el.replaceWith(clean);
      htmx.process(clean);
      el = clean;
    }
    return el;
  }

  function openForSpan(span, rect) {
    if (!canWrite || !span) return;
    const el = freshCreateForm();
    el.querySelector("[name=start]").value = span.start;
    el.querySelector("[name=end]").value = span.end;
    el.querySelector("[name=quote]").value = span.quote;
    el.querySelector("#selected-quote").textContent = span.quote;
    warnIfMarked(el, span);
    show(el, rect);
    loadSimilar(el, span.quote);
  }

  // A passage the reviewer marked already: said at once, with the way to that
  // claim, rather than refused at save.
  function warnIfMarked(el, span) {
    const alert = el.querySelector(".form-alert");
    if (!alert) return;
    alert.replaceChildren();
    const mine = document.querySelector(
      `#claim-list li[data-own][data-start="${span.start}"][data-end="${span.end}"]`
    );
    if (!mine) return;
    const link = document.createElement("a");
    link.href = `#c${mine.dataset.claim}`;
    link.className = "claim-link";
    link.dataset.claim = mine.dataset.claim;
    link.textContent = "edit that claim";
    alert.append("You already marked exactly this passage: ", link, " instead.");
  }

  // ---- Claims checked before ----------------------------------------------

  let similarRequest = null;
  function loadSimilar(el, quote) {
    const box = el.querySelector(".similar");
    if (!box || !reader.dataset.similarUrl) return;
    box.replaceChildren();
    if (similarRequest) similarRequest.abort();
    similarRequest = new AbortController();
    fetch(`${reader.dataset.similarUrl}?q=${encodeURIComponent(quote)}`, {
      signal: similarRequest.signal,
      headers: { Accept: "text/html" },
    })
      .then((response) => (response.ok ? response.text() : ""))
      .then((html) => {
        // The form may have been closed or reused for another passage meanwhile.
        if (form() === el && el.querySelector("[name=quote]").value === quote) box.innerHTML = html;
      })
      .catch(() => {}); // Suggestions are a help; the form works without them.
  }

  function useSuggestion(button) {
    const el = form();
    const reuse = JSON.parse(document.getElementById(button.dataset.reuse).textContent);
    const radio = el.querySelector(`input[name=verdict][value="${reuse.verdict}"]`);
    if (radio) radio.checked = true;
    const rating = el.querySelector("[name=rating]");
    if (rating && reuse.rating) rating.value = String(reuse.rating);
    const rows = el.querySelector(".source-rows");
    const have = new Set(Array.from(rows.querySelectorAll("[name=source_url]")).map((i) => i.value));
    let added = 0;
    for (const source of reuse.sources) {
      if (have.has(source.url)) continue;
      const row = el.querySelector(".source-template").content.firstElementChild.cloneNode(true);
      for (const name of ["url", "title", "quote", "stance", "visibility", "publisher"]) {
        const input = row.querySelector(`[name=source_${name}]`);
        if (input) input.value = source[name] || input.value;
      }
      rows.append(row);
      added += 1;
    }
    announce(`Verdict and ${added} source${added === 1 ? "" : "s"} taken from the claim checked before; review them, then save.`);
    if (radio) radio.focus();
  }

  function rectOfClaim(id) {
    const marks = textEl.querySelectorAll(`[data-c~="${id}"]`);
    return marks.length ? marks[marks.length - 1].getBoundingClientRect() : null;
  }

  // ---- Claims: current, next, previous ------------------------------------

  function claimItems() {
    return Array.from(document.querySelectorAll("#claim-list .claim-item"));
  }

  function focusClaim(id, { scroll = true } = {}) {
    currentClaim = String(id);
    document.querySelectorAll(".hl.current, .claim-item.current").forEach((el) => el.classList.remove("current"));
    const marks = textEl.querySelectorAll(`[data-c~="${id}"]`);
    marks.forEach((m) => m.classList.add("current"));
    const item = document.getElementById(`item-${id}`);
    if (item) {
      item.classList.add("current");
      item.scrollIntoView({ block: "nearest" });
    }
    if (scroll && marks.length) marks[0].scrollIntoView({ block: "center" });
  }

  function step(direction) {
    const items = claimItems();
    if (!items.length) return;
    const ids = items.map((item) => item.dataset.claim);
    const at = ids.indexOf(currentClaim);
    const next = at === -1 ? (direction > 0 ? 0 : ids.length - 1) : (at + direction + ids.length) % ids.length;
    focusClaim(ids[next]);
    items[next].querySelector(".claim-link").focus({ preventScroll: true });
  }

  // ---- Keyboard selection -------------------------------------------------

  function wordAt(i) {
    while (i < chars.length && !isWord(i)) i += 1;
    let end = i;
    while (end < chars.length && isWord(end)) end += 1;
    return i < chars.length ? { start: i, end } : null;
  }
  function wordBefore(i) {
    let end = i;
    while (end > 0 && !isWord(end - 1)) end -= 1;
    let start = end;
    while (start > 0 && isWord(start - 1)) start -= 1;
    return end > 0 ? { start, end } : null;
  }

  function startCaret() {
    let from = 0;
    if (currentClaim) {
      const anchor = document.getElementById(`c${currentClaim}`);
      const seg = anchor && anchor.nextElementSibling;
      if (seg && seg.dataset.s) from = segStart(seg);
    } else {
      const visible = paragraphs.find((p) => p.getBoundingClientRect().bottom > 80);
      if (visible && visible.querySelector("[data-s]")) from = segStart(visible.querySelector("[data-s]"));
    }
    caret = wordAt(from);
    if (caret) {
      textEl.classList.add("caret-mode");
      showSelection(caret.start, caret.end);
      announce("Keyboard selection: arrows move by word, Shift extends, Enter marks the claim, Esc cancels.");
    }
  }

  function stopCaret() {
    caret = null;
    textEl.classList.remove("caret-mode");
  }

  function paragraphWord(direction) {
    const bounds = paragraphs.map((p) => {
      const segs = p.querySelectorAll("[data-s]");
      return segs.length ? [segStart(segs[0]), segEnd(segs[segs.length - 1])] : null;
    });
    const at = bounds.findIndex((b) => b && caret.start >= b[0] && caret.start <= b[1]);
    const target = bounds[Math.max(0, Math.min(bounds.length - 1, at + direction))];
    return target ? wordAt(target[0]) : null;
  }

  function caretKey(event) {
    const { key, shiftKey } = event;
    let next = null;
    if (key === "ArrowRight") {
      const word = wordAt(caret.end);
      if (word) next = shiftKey ? { start: caret.start, end: word.end } : word;
    } else if (key === "ArrowLeft") {
      if (shiftKey) {
        const shrunk = wordBefore(caret.end - 1);
        next = shrunk && shrunk.end > caret.start ? { start: caret.start, end: shrunk.end }
          : (wordBefore(caret.start) ? { start: wordBefore(caret.start).start, end: caret.end } : null);
      } else next = wordBefore(caret.start);
    } else if (key === "ArrowDown" || key === "ArrowUp") {
      next = paragraphWord(key === "ArrowDown" ? 1 : -1);
    } else if (key === "Enter") {
      const span = snap(caret.start, caret.end);
      const rect = window.getSelection().getRangeAt(0).getBoundingClientRect();
      stopCaret();
      openForSpan(span, rect);
      event.preventDefault();
      return;
    } else if (key === "Escape") {
      stopCaret();
      window.getSelection().removeAllRanges();
      event.preventDefault();
      return;
    } else return;
    event.preventDefault();
    if (next) {
      caret = next;
      showSelection(caret.start, caret.end);
    }
  }

  // ---- Status line --------------------------------------------------------

  let statusTimer = null;
  function announce(message) {
    const status = document.getElementById("status");
    if (!status) return;
    if (message) status.textContent = message;
    status.hidden = !status.textContent.trim();
    clearTimeout(statusTimer);
    // A toast with an Undo button stays longer, so there is time to use it.
    statusTimer = setTimeout(() => { status.hidden = true; }, status.querySelector("button") ? 10000 : 4000);
  }

  // ---- Events -------------------------------------------------------------

  const typing = (target) => target.closest("input, textarea, select, [contenteditable]") &&
    !(target.matches("input[type=radio], input[type=checkbox]"));

  textEl.addEventListener("mouseup", () => {
    if (caret) stopCaret();
    setTimeout(() => {
      const span = selectionSpan();
      if (span) openForSpan(span, window.getSelection().getRangeAt(0).getBoundingClientRect());
    }, 0);
  });

  textEl.addEventListener("click", (event) => {
    const mark = event.target.closest("mark[data-c]");
    if (mark && window.getSelection().isCollapsed) {
      const ids = mark.dataset.c.split(" ");
      focusClaim(ids[ids.length - 1], { scroll: false });
    }
  });

  // A claim holds at most data-max sources (the server's limit): the button
  // that adds a row goes away at the limit, and says why.
  const limitSources = (el) => {
    const fieldset = el.querySelector("fieldset.sources");
    const max = Number(fieldset.dataset.max || 0);
    const full = max > 0 && el.querySelectorAll(".source-rows .source-row").length >= max;
    el.querySelector(".add-source").hidden = full;
    fieldset.querySelector(".sources-full").hidden = !full;
  };

  document.addEventListener("click", (event) => {
    const link = event.target.closest(".claim-link");
    if (link) {
      event.preventDefault();
      focusClaim(link.dataset.claim);
      history.replaceState(null, "", `#c${link.dataset.claim}`);
      return;
    }
    const suggestion = event.target.closest(".use-suggestion");
    if (suggestion) {
      useSuggestion(suggestion);
      return;
    }
    if (event.target.closest(".add-source")) {
      const el = form();
      const rows = el.querySelector(".source-rows");
      const row = el.querySelector(".source-template").content.firstElementChild.cloneNode(true);
      rows.append(row);
      row.querySelector("input").focus();
      limitSources(el);
      return;
    }
    const remove = event.target.closest(".remove-source");
    if (remove) {
      const el = form();
      remove.closest(".source-row").remove();
      limitSources(el);
      return;
    }
    if (event.target.closest("#claim-form .cancel")) close();
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey && event.key === "Enter" && event.target.closest("#claim-form")) {
      event.preventDefault();
      form().requestSubmit();
      return;
    }
    if (event.key === "Escape") {
      if (caret) return caretKey(event);
      if (!form().hidden) {
        close();
        event.preventDefault();
      }
      return;
    }
    if (caret) return caretKey(event);
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const open = !form().hidden;
    if (open && /^[0-9]$/.test(event.key)) {
      const radio = form().querySelector(`input[name=verdict][data-key="${event.key}"]`);
      if (radio) {
        radio.checked = true;
        radio.focus();
        event.preventDefault();
      }
      return;
    }
    if (event.key === "?") {
      document.getElementById("shortcuts").showModal();
    } else if (event.key === "n" || event.key === "j") {
      step(1);
    } else if (event.key === "p" || event.key === "k") {
      step(-1);
    } else if (event.key === "e" && currentClaim) {
      const edit = document.querySelector(`#item-${currentClaim} [hx-get]`);
      if (edit) edit.click();
    } else if (event.key === "v" && canWrite) {
      startCaret();
    } else return;
    event.preventDefault();
  });

  // A form answered with its errors is put back beside its selection in the same
  // task as the swap, so it is never seen (or clicked) below the article first.
  document.body.addEventListener("htmx:afterSwap", () => {
    const el = form();
    if (el && !el.hidden && !el.dataset.claim && lastPlace) Object.assign(el.style, lastPlace);
  });

  document.body.addEventListener("htmx:afterSettle", (event) => {
    refresh();
    const el = form();
    if (el && !el.hidden) {
      const id = el.dataset.claim;
      show(el, id ? rectOfClaim(id) : null);
    }
    const status = document.getElementById("status");
    if (event.detail.target && event.detail.target.id === "status") announce();
    if (status && event.detail.target && event.detail.target.id === "claim-form") {
      if (status.dataset.focus) focusClaim(status.dataset.focus, { scroll: false });
      window.getSelection().removeAllRanges();
      announce();
    }
  });

  refresh();
  pristineForm = form() && form().cloneNode(true);
  if (location.hash.startsWith("#c")) focusClaim(location.hash.slice(2));
})();
