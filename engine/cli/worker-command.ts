/** `cairn worker --queue redis://HOST:PORT`: takes sweep runs from the queue and trains them (engine/lab/queue.ts). */
import { availableParallelism } from 'node:os';
import { checkIntIn, checkNumberIn } from '../numeric.ts';
import { runWorker } from '../lab/queue.ts';
import { flag } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';

/** `cairn worker`'s flags. */
export const WORKER_SPEC: CommandSpec = {
  name: 'worker',
  summary: 'Take sweep runs from a Redis queue (cairn sweep --queue) and train them, K at a time.',
  flags: {
    queue: { kind: 'string', help: 'Redis URL of the queue', value: 'redis://HOST:PORT' },
    parallel: { kind: 'number', help: 'runs at a time (each with the thread count its sweep chose)', default: 'os.availableParallelism()' },
    'lock-seconds': { kind: 'number', help: 'seconds before a dead worker\'s run is taken by another worker', default: 30 },
    'stall-seconds': { kind: 'number', help: 'seconds a run may go without a new metrics row or any output before the worker kills its trainer and resumes it from its last checkpoint (twice; then the run fails)', default: 600 },
  },
};

/** Runs `cairn worker` until SIGINT or SIGTERM, then exits 0 (bad flags or an unreachable Redis: a thrown error, exit 2). */
export async function workerCommand(argv: string[]): Promise<number> {
  const f = parseCommand(WORKER_SPEC, argv);
  const url = flag(f, 'queue', '');
  if (!url) throw new Error('--queue redis://HOST:PORT is required');
  const parallel = checkIntIn('--parallel', flag(f, 'parallel', availableParallelism()), 1, 1024);
  const lockSeconds = checkNumberIn('--lock-seconds', flag(f, 'lock-seconds', 30), 2, 3600);
  const stallSeconds = checkNumberIn('--stall-seconds', flag(f, 'stall-seconds', 600), 1, 7 * 24 * 3600);
  await runWorker(url, { parallel, lockSeconds, stallSeconds, log: (line) => console.error(line) });
  // Stopped by a signal with its trainers stopped: leave now, whatever BullMQ still holds open.
  process.exit(0);
}
