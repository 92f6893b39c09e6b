/** Path of the chromium binary the browser tests use (CHROMIUM_PATH or /usr/bin/chromium). */
export const CHROMIUM_PATH: string;
/** Returns the chromium path, installing Debian's `chromium` package first when missing (root only). */
export function ensureChromium(): string;
