// The API keys page: a Copy button for a new key's secret.
// Delegated from the document, so it also works on the block htmx swaps in.
// The secret sits in a read-only field, so without this it can still be
// selected and copied by hand.
document.addEventListener("click", async (event) => {
  "use strict";
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.copyStatus);
  if (!field) return;
  const say = (text) => { if (status) status.textContent = text; };
  try {
    // Only on https or localhost; elsewhere navigator.clipboard is missing.
    await navigator.clipboard.writeText(field.value);
    say("Copied.");
  } catch {
    field.focus();
    field.select();
    say(document.execCommand && document.execCommand("copy")
      ? "Copied."
      : "Selected: press Ctrl+C (⌘C on a Mac) to copy.");
  }
});
