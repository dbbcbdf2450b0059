// API tokens page (and the shown-once password page): copy a freshly shown secret.
import { gettext } from "./lib/i18n.js";
for (const button of document.querySelectorAll("[data-copy-target]")) {
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copyTarget);
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = gettext("Copied");
    } catch {
      window.getSelection().selectAllChildren(source);
      button.textContent = gettext("Press Ctrl+C");
    }
  });
}
