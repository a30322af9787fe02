/** Helpers shared by the benchmark scripts: statistics, machine description, flags, git commit. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The machine a result was measured on; `host` is a stable slug of CPU model and core count. */
export function machineInfo(): { host: string; cpu: string; cores: number; memGiB: number; platform: string } {
  const cpu = os.cpus()[0]?.model ?? 'unknown-cpu';
  const cores = os.cpus().length;
  const slug = cpu.toLowerCase().replace(/\(r\)|\(tm\)|cpu|processor|@.*$/g, '').trim().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return { host: `${slug}-${cores}c`, cpu, cores, memGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()}-${os.arch()}` };
}

/** The current git commit (short), or 'unknown' outside a checkout. */
export function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Parses `--name value` and `--flag` arguments against a schema; unknown flags and missing values throw. */
export function parseFlags(argv: string[], schema: Record<string, 'boolean' | 'string' | 'number'>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const [name, inline] = arg.slice(2).split('=', 2);
    const kind = schema[name];
    if (!kind) throw new Error(`unknown flag --${name} (known: ${Object.keys(schema).map((k) => '--' + k).join(', ')})`);
    if (kind === 'boolean') { out[name] = true; continue; }
    const v = inline ?? argv[++i];
    if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new Error(`flag --${name} needs a value`);
    if (kind === 'number') {
      const x = Number(v);
      if (!Number.isFinite(x)) throw new Error(`flag --${name} must be a number, got '${v}'`);
      out[name] = x;
    } else out[name] = v;
  }
  return out;
}
