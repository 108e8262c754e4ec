// Adjudication keys: j/k move between units, 1-9 take that reviewer's span and
// verdict, a saves the current unit as chosen, r reuses the verdict and sources
// of the claim checked before. A live hint when the claim as reviewed grows
// past ClaimReview's 75 characters.
(() => {
  "use strict";
  const units = Array.from(document.querySelectorAll("section.unit"));
  if (!units.length) return;
  let current = Math.max(0, units.findIndex((u) => `#${u.id}` === location.hash));

  const focus = (i) => {
    current = (i + units.length) % units.length;
    units.forEach((u, n) => u.classList.toggle("current", n === current));
    units[current].focus();
    units[current].scrollIntoView({ block: "start" });
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input[type=text], input[type=date], textarea, select")) return;
    const unit = units[current];
    if (event.key === "j") focus(current + 1);
    else if (event.key === "k") focus(current - 1);
    else if (event.key === "a") unit.querySelector("form").requestSubmit(unit.querySelector("button.accept"));
    else if (event.key === "r") {
      const reuse = unit.querySelector("button.reuse");
      if (!reuse) return;
      unit.querySelector("form").requestSubmit(reuse);
    }
    else if (/^[1-9]$/.test(event.key)) {
      const row = unit.querySelector(`tr[data-key="${event.key}"]`);
      if (!row) return;
      row.querySelectorAll("input[type=radio]:not([disabled])").forEach((r) => {
        r.checked = true;
        r.dispatchEvent(new Event("change", { bubbles: true }));
      });
    } else return;
    event.preventDefault();
  });

  document.addEventListener("input", (event) => {
    const area = event.target.closest("textarea[data-hint]");
    if (!area) return;
    area.classList.toggle("too-long", area.value.length > Number(area.dataset.hint));
    // Edited by hand: it no longer follows the chosen span.
    area.dataset.edited = "";
  });

  // "Claim as reviewed" follows the chosen span (its quote) until the editor
  // writes it themselves, or the unit was saved with its own wording.
  document.addEventListener("change", (event) => {
    const radio = event.target.closest("input[name=span_from][data-quote]");
    if (!radio) return;
    const area = radio.form.querySelector("textarea[name=claim_reviewed]");
    if (area && !("edited" in area.dataset)) area.value = radio.dataset.quote;
  });

  focus(current);
})();
