// The authenticator app's setup address (otpauth://totp/...) drawn as a QR code on the second
// factor page, for phones to scan. The modules are drawn as one SVG path built with DOM calls:
// no HTML strings and no style attributes (the Content-Security-Policy refuses them). The
// address is also shown as text beside it, and the key to type by hand.

import { qrcode } from "../../vendor/qrcode-generator-2.0.4/qrcode.mjs";

const SVG = "http://www.w3.org/2000/svg";
const QUIET_ZONE = 4; // modules of light margin the QR specification asks for

/** The dark modules of `text`'s QR code (error correction M, smallest version that fits). */
function modules(text) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const size = qr.getModuleCount();
  const dark = [];
  for (let row = 0; row < size; row += 1) {
    for (let col = 0; col < size; col += 1) if (qr.isDark(row, col)) dark.push([row, col]);
  }
  return { size, dark };
}

/** An <svg> drawing `text` as a QR code, black on white, scaled by its container. */
export function qrSvg(text) {
  const { size, dark } = modules(text);
  const side = size + 2 * QUIET_ZONE;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${side} ${side}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("data-modules", String(size));
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", String(side));
  background.setAttribute("height", String(side));
  background.setAttribute("fill", "#fff");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", dark.map(([row, col]) => `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`).join(""));
  path.setAttribute("fill", "#000");
  svg.append(background, path);
  return svg;
}

for (const holder of document.querySelectorAll("[data-qr]")) {
  holder.replaceChildren(qrSvg(holder.dataset.qr));
}
