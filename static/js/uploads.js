// How much of an upload the browser has sent, for a form marked
// data-upload-progress: a big file of claims takes a while to send before its
// import job (and that job's own progress bar) starts. htmx reports the
// request's progress as htmx:xhr:progress, for the upload and then for the
// (small) answer; the bar only ever moves forward, so the answer's own
// progress does not pull it back.
(() => {
  "use strict";
  const parts = (form) => {
    const box = form.querySelector(".upload-progress");
    return box && {
      box,
      bar: box.querySelector("progress"),
      status: box.querySelector("[data-upload-status]"),
    };
  };
  const megabytes = (bytes) => (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);
  const uploading = (event) => {
    const form = event.detail.elt;
    return form && form.matches && form.matches("form[data-upload-progress]") ? parts(form) : null;
  };

  document.addEventListener("htmx:beforeSend", (event) => {
    const shown = uploading(event);
    if (!shown) return;
    shown.bar.value = 0;
    shown.bar.removeAttribute("data-done");
    shown.status.textContent = "Sending…";
    shown.box.hidden = false;
  });

  document.addEventListener("htmx:xhr:progress", (event) => {
    const shown = uploading(event);
    if (!shown || !event.detail.lengthComputable || !event.detail.total) return;
    const percent = Math.min(100, (100 * event.detail.loaded) / event.detail.total);
    if (percent <= shown.bar.value || shown.bar.hasAttribute("data-done")) return;
    shown.bar.value = percent;
    if (percent >= 100) {
      // The file is there: the server stores it and starts the import job.
      shown.bar.setAttribute("data-done", "");
      shown.status.textContent = "Sent; starting the import…";
    } else {
      shown.status.textContent = `Sending… ${Math.floor(percent)} % (${megabytes(event.detail.loaded)} of ${megabytes(event.detail.total)} MB)`;
    }
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const shown = uploading(event);
    if (!shown) return;
    // The job's row (or the form's errors) has arrived: the upload's bar has done its work.
    shown.box.hidden = true;
  });
})();
