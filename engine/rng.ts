/**
 * Counter-based uniform numbers for episode sampling: draw k of episode e of env i under seed s is a
 * pure function of (s, i, e, k), so env i's initial states do not depend on the batch size or order.
 */

/** 32-bit finalizer of MurmurHash3, a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Returns a uniform number in [0, 1) for (seed, env, episode, draw), with 2^-32 resolution. */
export function counterUniform(seed: number, env: number, episode: number, draw: number): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(env >>> 0, 0x85ebca77));
  h = fmix32(h ^ Math.imul(episode >>> 0, 0xc2b2ae3d));
  h = fmix32(h ^ Math.imul(draw >>> 0, 0x27d4eb2f) ^ 0x165667b1);
  return h / 4294967296;
}

/** A stream of uniforms for one episode of one env: `next()` advances the draw counter. */
export class EpisodeRng {
  private draw = 0;
  constructor(private seed: number, private env: number, private episode: number) {}
  /** Restarts the stream for another (seed, env, episode). */
  reset(seed: number, env: number, episode: number): void {
    this.seed = seed; this.env = env; this.episode = episode; this.draw = 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return counterUniform(this.seed, this.env, this.episode, this.draw++);
  }
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
}

/** A seeded stream of uniforms in [0, 1) (mulberry32), for tests and benchmarks that need varied, reproducible inputs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal number for (seed, env, episode, draw), from draws 2·draw and 2·draw + 1 by Box-Muller. */
export function counterGaussian(seed: number, env: number, episode: number, draw: number): number {
  const u1 = 1 - counterUniform(seed, env, episode, 2 * draw);
  const u2 = counterUniform(seed, env, episode, 2 * draw + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
