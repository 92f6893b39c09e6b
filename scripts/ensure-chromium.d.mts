/** Path of the chromium binary the browser tests use (CHROMIUM_PATH or /usr/bin/chromium). */
export const CHROMIUM_PATH: string;
/** Returns the chromium path, installing Debian's `chromium` package first when missing (root only). */
export function ensureChromium(): string;
/** Same, in a child process so the caller's event loop is not blocked during the install. */
export function ensureChromiumAsync(): Promise<string>;
