// Display helpers shared by the page modules.

const UNITS = ["bytes", "KB", "MB", "GB", "TB"];

/** 1536 -> "1.5 KB" (binary multiples, as Django's filesizeformat). */
export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
