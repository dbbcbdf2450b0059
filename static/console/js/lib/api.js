// Talking to the console's REST API from the pages: CSRF token from the cookie, JSON errors
// in the API's {"detail", "code", "errors"} shape turned into one readable message.
import { format, gettext } from "./i18n.js";

/** The CSRF token Django set in the `csrftoken` cookie ("" when there is none). */
export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(rest.join("="));
  }
  return "";
}

/**
 * A readable message from an API error body (or a fallback naming the HTTP status). Field
 * messages already contained in `detail` (the API's summary) are not repeated.
 */
export function errorMessage(body, status) {
  if (body && typeof body === "object") {
    const detail = typeof body.detail === "string" ? body.detail : "";
    const parts = detail ? [detail] : [];
    for (const [field, messages] of Object.entries(body.errors || {})) {
      for (const text of [].concat(messages).map(String)) {
        if (detail.includes(text)) continue;
        parts.push(field === "non_field_errors" ? text : `${field}: ${text}`);
      }
    }
    if (parts.length) return parts.join(" ");
  }
  if (status === 413) return gettext("The file is larger than the server accepts.");
  if (status === 0) return gettext("The server could not be reached. Check your connection and try again.");
  return format(gettext("The server answered with an error (HTTP %(status)s)."), { status: status });
}

/** fetch() with the session cookie and CSRF token; resolves to {ok, status, body}. */
export async function apiFetch(url, options = {}) {
  const headers = new Headers(options.headers || {});
  headers.set("Accept", "application/json");
  if (options.method && options.method !== "GET") headers.set("X-CSRFToken", csrfToken());
  const response = await fetch(url, { credentials: "same-origin", ...options, headers });
  const body = await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, body };
}

/**
 * POST a FormData with XMLHttpRequest so that upload progress can be reported.
 * `onProgress(loaded, total)` is called as bytes leave the browser. Resolves to
 * {ok, status, body}; never rejects for HTTP errors.
 */
export function uploadWithProgress(url, formData, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => resolve({ ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, body: xhr.response });
    xhr.onerror = () => resolve({ ok: false, status: 0, body: null });
    xhr.send(formData);
  });
}
