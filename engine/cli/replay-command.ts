/** `cairn replay FILE`: re-simulates a recording from its start states with its actions and reports the drift. */
import { promises as fs } from 'node:fs';
import { decodeRecording } from '../record/format.ts';
import { replayRecording } from '../record/replay.ts';
import { parseCommand, type CommandSpec } from './command.ts';

/** `cairn replay`'s flags. */
export const REPLAY_SPEC: CommandSpec = {
  name: 'replay',
  summary: 'Re-simulate a recording from its start states with its actions and report the drift.',
  positional: { name: 'FILE', help: 'recording written by cairn rollout --record' },
  flags: { json: { kind: 'boolean', help: 'print the result as one JSON line' } },
};

/** Runs the replay command; returns the exit code. */
export async function replayCommand(argv: string[]): Promise<number> {
  const f = parseCommand(REPLAY_SPEC, argv);
  const file = f.positional?.[0];
  if (!file) throw new Error('name the recording to replay');
  const bytes = await fs.readFile(file).catch((e: NodeJS.ErrnoException) => { throw new Error(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`); });
  const rec = await decodeRecording(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  console.error(`cairn replay: ${rec.manifest.task}, ${rec.manifest.episodes.length} episode(s) recorded in ${rec.manifest.numEnvs} envs (seed ${rec.manifest.seed})`);
  const r = await replayRecording(rec);
  const out = { task: r.task, episodes: r.episodes, medianError: r.medianError, worstError: r.worstError, bitIdentical: r.bitIdentical, successAgrees: r.successAgrees, recordedSuccess: r.recordedSuccess, replayedSuccess: r.replayedSuccess };
  if (f.json) console.log(JSON.stringify(out));
  else {
    console.log(`drift (largest body position error per episode): median ${r.medianError.toExponential(2)} m, worst ${r.worstError.toExponential(2)} m; ${r.bitIdentical} of ${r.episodes} episode(s) bit-identical`);
    console.log(`success: recorded ${r.recordedSuccess}, replayed ${r.replayedSuccess}, same outcome in ${r.successAgrees} of ${r.episodes}`);
  }
  return 0;
}
