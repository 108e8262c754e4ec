// What every page shares: a clear word when the server cannot be reached.
// htmx leaves the page as it was on a failed request, so what the user typed
// is still there to send again.
(() => {
  "use strict";
  const show = (message) => {
    const toast = document.getElementById("network-error");
    if (!toast) return;
    if (message) toast.textContent = message;
    toast.hidden = false;
    setTimeout(() => { toast.hidden = true; }, 8000);
  };
  document.addEventListener("htmx:sendError", () => show("The server could not be reached. Nothing was saved; try again."));
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr.status;
    show(status === 404 ? "That item no longer exists, or is not yours to see."
      : status === 413 ? "What you sent is too large. Nothing was saved; shorten it and try again."
      : `The server answered with an error (${status}). Nothing was saved; try again.`);
  });
})();

// A form marked data-reset-after-send empties itself once htmx has sent it
// successfully (the upload form: its files are on their way).
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (event.detail.successful && form.matches && form.matches("form[data-reset-after-send]")) form.reset();
});
