// Autosave: every model change is PATCHed to the pipeline after a quiet period, the state is
// shown in #save-state, and each stored graph is validated by the server so its problems and
// propagated schemas (for the column pickers) reach the view and the panel. `flush()` lets
// the run tools make sure the server runs what the user sees.

import { apiFetch, errorMessage } from "../lib/api.js";
import { format, gettext } from "../lib/i18n.js";

const DEBOUNCE_MS = 800;

/**
 * Start autosaving `model` to `urls.pipeline`. `onValidation(result)` receives each validate
 * response ({valid, problems, outputs}). Returns {flush, validate, state}.
 */
export function createAutosave({ model, urls, bus, stateEl, onValidation }) {
  let timer = null;
  let saving = null;
  let dirty = false;
  let failure = "";

  function show(text, kind, retry = false) {
    stateEl.className = `save-state save-state-${kind}`;
    stateEl.replaceChildren(document.createTextNode(text));
    if (retry) {
      const button = Object.assign(document.createElement("button"), { type: "button", className: "link-button save-retry", textContent: gettext("Retry") });
      button.addEventListener("click", () => flush().catch(() => {}));
      stateEl.append(" ", button);
    }
  }

  async function validate() {
    const response = await apiFetch(urls.validate, { method: "POST" });
    if (!response.ok) return null;
    onValidation(response.body);
    bus.dispatchEvent(new CustomEvent("validation", { detail: { valid: response.body.valid, problems: response.body.problems } }));
    return response.body;
  }

  async function store() {
    dirty = false;
    const graph = model.toJSON();
    show(gettext("Saving…"), "saving");
    let response;
    try {
      response = await apiFetch(urls.pipeline, {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ graph }),
      });
    } catch (error) {
      response = { ok: false, status: 0, body: null };
    }
    if (!response.ok) {
      dirty = true;
      failure = errorMessage(response.body, response.status);
      show(format(gettext("Save failed: %(failure)s"), { failure: failure }), "failed", true);
      throw new Error(failure);
    }
    failure = "";
    show(dirty ? gettext("Unsaved changes") : gettext("Saved"), dirty ? "dirty" : "saved");
    bus.dispatchEvent(new CustomEvent("graph:saved", { detail: { graph } }));
    validate();
  }

  function saveNow() {
    clearTimeout(timer);
    timer = null;
    const previous = saving || Promise.resolve();
    saving = previous.catch(() => {}).then(store).finally(() => {
      saving = null;
      if (dirty && !failure && !timer) schedule();
    });
    return saving;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(() => saveNow().catch(() => {}), DEBOUNCE_MS);
  }

  /** Resolves once everything the user changed is stored; rejects with the failure message. */
  async function flush() {
    if (timer || dirty) return saveNow();
    if (saving) return saving;
    if (failure) throw new Error(failure);
    return undefined;
  }

  model.addEventListener("change", (event) => {
    if (event.detail.reason === "load") return;
    dirty = true;
    show(gettext("Unsaved changes"), "dirty");
    schedule();
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty || saving || timer) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  show(gettext("Saved"), "saved");
  return { flush, validate, isDirty: () => dirty || Boolean(saving) || Boolean(timer) };
}
