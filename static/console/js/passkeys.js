// Passkeys (WebAuthn): add one on the second-factor page, or sign in with one after the
// password. The server sends options with binary fields as base64url and checks the answers.
import { apiFetch, errorMessage } from "./lib/api.js";
import { format, gettext } from "./lib/i18n.js";

const toBytes = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const toText = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const withIds = (list) => (list || []).map((item) => ({ ...item, id: toBytes(item.id) }));

async function post(url, body) {
  const options = { method: "POST" };
  if (body) {
    options.body = JSON.stringify(body);
    options.headers = { "Content-Type": "application/json" };
  }
  const response = await apiFetch(url, options);
  if (!response.ok) throw new Error(errorMessage(response.body, response.status));
  return response.body;
}

function report(root, text, { error = false } = {}) {
  const status = root.querySelector("[data-passkey-status]");
  status.textContent = text;
  status.className = error ? "field-error" : "help";
  status.hidden = !text;
}

function showCodes(root, codes) {
  const list = root.querySelector("[data-passkey-codes]");
  list.replaceChildren(...codes.map((code) => Object.assign(document.createElement("li"), { textContent: code })));
  root.querySelector("[data-passkey-codes-box]").hidden = false;
}

async function addPasskey(root) {
  const name = root.querySelector("input[name=passkey_name]").value.trim();
  if (!name) return report(root, gettext("Name the passkey first, e.g. 'work laptop'."), { error: true });
  const options = await post(root.dataset.optionsUrl);
  const credential = await navigator.credentials.create({
    publicKey: { ...options, challenge: toBytes(options.challenge), user: { ...options.user, id: toBytes(options.user.id) }, excludeCredentials: withIds(options.excludeCredentials) },
  });
  const body = await post(root.dataset.registerUrl, {
    name,
    id: credential.id,
    clientDataJSON: toText(credential.response.clientDataJSON),
    attestationObject: toText(credential.response.attestationObject),
  });
  report(root, format(gettext("Passkey '%(name)s' added."), { name }));
  if (body.recovery_codes.length) showCodes(root, body.recovery_codes);
  else window.location.reload();
}

async function signIn(root) {
  const options = await post(root.dataset.optionsUrl);
  const credential = await navigator.credentials.get({
    publicKey: { ...options, challenge: toBytes(options.challenge), allowCredentials: withIds(options.allowCredentials) },
  });
  const body = await post(root.dataset.signInUrl, {
    id: credential.id,
    clientDataJSON: toText(credential.response.clientDataJSON),
    authenticatorData: toText(credential.response.authenticatorData),
    signature: toText(credential.response.signature),
  });
  window.location.assign(body.redirect);
}

// The buttons are rendered disabled: a click before this module has run would do nothing.
for (const root of document.querySelectorAll("[data-passkey]")) {
  const action = root.dataset.passkey === "add" ? addPasskey : signIn;
  const button = root.querySelector("button[data-passkey-go]");
  if (!window.PublicKeyCredential) {
    report(root, gettext("This browser offers no passkeys (WebAuthn); use a code instead."), { error: true });
    button.disabled = true;
    continue;
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    report(root, "");
    try {
      await action(root);
    } catch (error) {
      const text = error.name === "NotAllowedError" ? gettext("The passkey request was cancelled or timed out.") : error.message;
      report(root, text, { error: true });
    } finally {
      button.disabled = false;
    }
  });
  button.disabled = false;
}
