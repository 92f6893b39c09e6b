// Seeded PRNG (mulberry32) + Box-Muller normals. Reproducible per seed; no Math.random in sims.

export class SeededRandom {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    // Mix the seed so nearby seeds give unrelated streams.
    this.state = (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ (seed * 2654435761)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Derive an independent child stream (e.g. one per symbol). */
  fork(salt: number): SeededRandom {
    return new SeededRandom((Math.floor(this.next() * 4294967296) ^ Math.imul(salt + 1, 0x27d4eb2d)) >>> 0);
  }
}
