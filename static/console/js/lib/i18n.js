// Translations for the browser modules. The catalogue is Django's JavaScriptCatalog
// (`/jsi18n/`, loaded by base.html before any module), which defines a global gettext();
// without it (Node tests of the pure modules) text stays English.

export function gettext(text) {
  return typeof globalThis.gettext === "function" ? globalThis.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (typeof globalThis.ngettext === "function") return globalThis.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

// Fills %(name)s placeholders of a translated text, so translators can reorder them.
export function format(text, values) {
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
