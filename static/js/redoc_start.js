// Starts Redoc from a data attribute rather than an inline script (the
// Content-Security-Policy allows our own script files only).
(function () {
  const container = document.getElementById("redoc-container");
  const settings = JSON.parse(container.dataset.settings || "{}");
  Redoc.init(container.dataset.specUrl, settings, container);
})();
