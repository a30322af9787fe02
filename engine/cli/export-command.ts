/** `cairn export RUN_DIR [--out FILE]`: writes a checkpoint's policy as safetensors (engine/train/export.ts). */
import path from 'node:path';
import { writeAtomic } from '../fs-atomic.ts';
import { loadCheckpoint } from '../train/checkpoint-fs.ts';
import { policySafetensors } from '../train/export.ts';
import { EXPORT_FILE } from '../train/run.ts';
import { flag } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';
import { checkWritableFile } from './paths.ts';

/** `cairn export`'s flags. */
export const EXPORT_SPEC: CommandSpec = {
  name: 'export',
  summary: 'Write a run\'s policy as safetensors (named tensors and the observation normalizer).',
  positional: { name: 'RUN_DIR', help: 'run directory (or its checkpoint.json)' },
  flags: { out: { kind: 'string', help: 'output file', default: 'RUN_DIR/policy.safetensors', value: 'file' } },
};

/** Runs `cairn export`; returns the exit code. */
export async function exportCommand(argv: string[]): Promise<number> {
  const f = parseCommand(EXPORT_SPEC, argv);
  const dir = f.positional?.[0];
  if (!dir) throw new Error('export needs a run directory (or its checkpoint.json)');
  const { manifest, arrays } = await loadCheckpoint(dir);
  const out = flag(f, 'out', path.join(dir.endsWith('.json') ? path.dirname(dir) : dir, EXPORT_FILE));
  await checkWritableFile(out, '--out');
  const bytes = policySafetensors(manifest, arrays);
  await writeAtomic(out, bytes);
  console.log(`wrote ${out}: ${manifest.task} policy ${manifest.obsDim}-${manifest.hidden.join('-')}-${manifest.actDim}, ${bytes.length} bytes (checkpoint at ${manifest.envSteps} env steps)`);
  return 0;
}
