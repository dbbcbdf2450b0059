// Dataset upload page: send the form to the API with XHR, show real upload progress
// (percentage and bytes), show the server's error message, then open the new dataset.
import { errorMessage, uploadWithProgress } from "./lib/api.js";
import { formatBytes } from "./lib/format.js";
import { format, gettext } from "./lib/i18n.js";

const form = document.getElementById("upload-form");
const errorBox = document.getElementById("upload-error");
const progress = document.getElementById("upload-progress");
const track = progress.querySelector("[role=progressbar]");
const bar = document.getElementById("upload-bar");
const percentText = document.getElementById("upload-percent");
const bytesText = document.getElementById("upload-bytes");
const statusText = document.getElementById("upload-status");
const submit = document.getElementById("upload-submit");
const fileInput = form.elements.namedItem("file");
const nameInput = form.elements.namedItem("name");

function showError(message) {
  errorBox.replaceChildren();
  const paragraph = document.createElement("p");
  paragraph.textContent = message;
  errorBox.append(paragraph);
  errorBox.hidden = false;
  errorBox.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function setProgress(loaded, total) {
  const percent = total > 0 ? Math.floor((loaded / total) * 100) : 0;
  bar.style.width = `${percent}%`;
  track.setAttribute("aria-valuenow", String(percent));
  percentText.textContent = `${percent}%`;
  bytesText.textContent = `${formatBytes(loaded)} of ${formatBytes(total)}`;
  if (percent >= 100) statusText.textContent = gettext("Uploaded. Checking the file and computing its schema…");
}

function resetProgress(state) {
  progress.hidden = false;
  progress.classList.remove("is-done", "is-failed");
  if (state) progress.classList.add(state);
}

// Suggest a dataset name from the file name, unless the user typed one.
fileInput.addEventListener("change", () => {
  const file = fileInput.files[0];
  if (file && !nameInput.value.trim()) nameInput.value = file.name.replace(/\.[^.]*$/, "");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const file = fileInput.files[0];
  if (!file) return showError(gettext("Choose a CSV file to upload."));
  if (!nameInput.value.trim()) return showError(gettext("Give the dataset a name."));
  const maxBytes = Number(form.dataset.maxBytes);
  if (maxBytes && file.size > maxBytes) {
    return showError(format(gettext("The file is %(size)s; the limit is %(maxBytes)s."), { size: formatBytes(file.size), maxBytes: formatBytes(maxBytes) }));
  }
  resetProgress(null);
  statusText.textContent = format(gettext("Uploading %(file_name)s…"), { file_name: file.name });
  setProgress(0, file.size);
  submit.disabled = true;
  const result = await uploadWithProgress(form.dataset.apiUrl, new FormData(form), setProgress);
  if (result.ok && result.body && result.body.id !== undefined) {
    resetProgress("is-done");
    statusText.textContent = gettext("Done. Opening the dataset…");
    window.location.assign(form.dataset.detailUrl.replace(/\/0\/$/, `/${result.body.id}/`));
    return;
  }
  resetProgress("is-failed");
  statusText.textContent = gettext("The server refused the file; nothing was stored.");
  showError(errorMessage(result.body, result.status));
  submit.disabled = false;
});
