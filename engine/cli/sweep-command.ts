/** `cairn sweep SWEEP.json --out DIR`: the runs of a sweep file, K at a time, ranked (engine/lab/sweep.ts). */
import { flag } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';
import { runSweep } from '../lab/sweep.ts';

/** `cairn sweep`'s flags. */
export const SWEEP_SPEC: CommandSpec = {
  name: 'sweep',
  summary: 'Run a sweep file\'s cairn train runs K at a time; rank them (table.md, report.html, results.json).',
  positional: { name: 'SWEEP.json', help: 'sweep file: { "grid": {...} | "runs": [...], "base": {...}, "seeds": [...] }' },
  flags: {
    out: { kind: 'string', help: 'sweep directory (runs/, logs/, results.json, table.md, report.html)', value: 'dir' },
    parallel: { kind: 'number', help: 'runs at a time; each gets max(1, floor(cores / K)) threads', default: 'os.availableParallelism()' },
    'checkpoint-seconds': { kind: 'number', help: 'seconds between each run\'s checkpoints', default: 30 },
    queue: { kind: 'string', help: 'put the runs on this Redis queue for cairn worker processes (DIR must be shared with them)', value: 'redis://HOST:PORT' },
    json: { kind: 'boolean', help: 'print the summary as one JSON line' },
  },
};

/** Runs `cairn sweep`; returns 0 when every run finished, 1 when some failed, 130 / 143 when stopped by SIGINT / SIGTERM. */
export async function sweepCommand(argv: string[]): Promise<number> {
  const f = parseCommand(SWEEP_SPEC, argv);
  const file = f.positional?.[0];
  if (!file) throw new Error('sweep needs a sweep file (cairn sweep SWEEP.json --out DIR)');
  const out = flag(f, 'out', '');
  if (!out) throw new Error('--out DIR is required (where the runs and results go)');
  const s = await runSweep({ file, outDir: out, parallel: f.parallel as number | undefined, checkpointSeconds: f['checkpoint-seconds'] as number | undefined, queue: f.queue as string | undefined });
  if (flag(f, 'json', false)) console.log(JSON.stringify({ runs: s.runs, finished: s.finished, skipped: s.skipped, failed: s.failed, wallSeconds: s.wallSeconds, best: s.best }));
  else console.log(`${s.table}\n${s.runs} runs: ${s.finished} finished now, ${s.skipped} before, ${s.failed} failed, in ${s.wallSeconds} s; results in ${out}/results.json, report ${out}/report.html`);
  // A signal's exit code as a shell reports it: 128 + its number.
  return s.signal === 'SIGINT' ? 130 : s.signal === 'SIGTERM' ? 143 : s.failed ? 1 : 0;
}
