/** The cairn command line: dispatches to a subcommand and turns errors into a one-line message and exit code 2. */
import { rolloutCommand, ROLLOUT_SPEC } from './rollout-command.ts';
import { replayCommand, REPLAY_SPEC } from './replay-command.ts';
import { exploreCommand, EXPLORE_SPEC } from './explore-command.ts';
import { evalCommand, EVAL_SPEC, trainCommand, TRAIN_SPEC } from './train-command.ts';
import { exportCommand, EXPORT_SPEC } from './export-command.ts';
import { renderCommand, RENDER_SPEC } from './render-command.ts';
import { sweepCommand, SWEEP_SPEC } from './sweep-command.ts';
import { analyzeCommand, ANALYZE_SPEC } from './analyze-command.ts';
import { workerCommand, WORKER_SPEC } from './worker-command.ts';
import { searchCommand, SEARCH_SPEC } from './search-command.ts';
import { HelpShown, type CommandSpec } from './command.ts';

/** Every subcommand: its spec (flags, help) and what runs it. */
export const COMMANDS: Record<string, { spec: CommandSpec; run: (argv: string[]) => Promise<number> }> = {
  train: { spec: TRAIN_SPEC, run: trainCommand },
  eval: { spec: EVAL_SPEC, run: evalCommand },
  rollout: { spec: ROLLOUT_SPEC, run: rolloutCommand },
  replay: { spec: REPLAY_SPEC, run: replayCommand },
  explore: { spec: EXPLORE_SPEC, run: exploreCommand },
  export: { spec: EXPORT_SPEC, run: exportCommand },
  render: { spec: RENDER_SPEC, run: renderCommand },
  sweep: { spec: SWEEP_SPEC, run: sweepCommand },
  worker: { spec: WORKER_SPEC, run: workerCommand },
  analyze: { spec: ANALYZE_SPEC, run: analyzeCommand },
  search: { spec: SEARCH_SPEC, run: searchCommand },
};

const USAGE = `usage: cairn COMMAND [flags]   (cairn COMMAND --help for its flags)\n\ncommands:\n${Object.values(COMMANDS).map((c) => `  ${c.spec.name.padEnd(9)}${c.spec.summary}`).join('\n')}`;

/** The closest command name to a typo (edit distance ≤ 2), if any. */
function closestCommand(name: string): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length][b.length];
  };
  return Object.keys(COMMANDS).map((c) => [c, dist(name, c)] as const).filter(([, k]) => k <= 2).sort((x, y) => x[1] - y[1])[0]?.[0];
}

/**
 * With CAIRN_EXIT_WITH_PARENT=1 (engine/lab/pool.ts, for a queue worker's children): exit when stdin's pipe closes, which
 * happens when the parent dies, even by SIGKILL, so that no orphan keeps writing a run another worker resumes.
 */
function exitWithParent(): void {
  if (process.env.CAIRN_EXIT_WITH_PARENT !== '1') return;
  process.stdin.on('end', () => {
    console.error('cairn: the parent process is gone; exiting (its run resumes from the last checkpoint)');
    process.exit(137);
  });
  process.stdin.resume();
  // Watching must not keep a finished command alive.
  (process.stdin as { unref?: () => void }).unref?.();
}

/** Runs the CLI on argv (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  exitWithParent();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    const near = closestCommand(name);
    console.error(`cairn: unknown command '${name}'${near ? ` (did you mean ${near}?)` : ''}\n${USAGE}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof HelpShown) return 0;
    console.error(`cairn ${name}: ${(e as Error).message} (cairn ${name} --help lists every flag)`);
    if (process.env.CAIRN_DEBUG) console.error((e as Error).stack);
    return 2;
  }
}
