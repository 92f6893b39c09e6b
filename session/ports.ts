// Preferred ports (DESIGN.md) with a fallback to an ephemeral port when one is taken.
import { createServer } from "node:net";

/** True when nothing listens on host:port right now (a probe; the real bind may still race). */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  if (port === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** The preferred port if free, else 0 (ephemeral), telling `onFallback` which one was busy. */
export async function choosePort(
  name: string,
  preferred: number,
  host: string,
  onFallback: (msg: string) => void,
): Promise<number> {
  if (preferred === 0 || (await isPortFree(preferred, host))) return preferred;
  onFallback(`${name}: port ${preferred} is busy; using an ephemeral port instead`);
  return 0;
}
