/** The cairn command line: dispatches to a subcommand and turns errors into a message and exit code 2. */
import { rolloutCommand, ROLLOUT_USAGE } from './rollout-command.ts';
import { replayCommand, REPLAY_USAGE } from './replay-command.ts';
import { exploreCommand, EXPLORE_USAGE } from './explore-command.ts';
import { evalCommand, EVAL_USAGE, trainCommand, TRAIN_USAGE } from './train-command.ts';

const COMMANDS: Record<string, { usage: string; run: (argv: string[]) => Promise<number> }> = {
  train: { usage: TRAIN_USAGE, run: trainCommand },
  eval: { usage: EVAL_USAGE, run: evalCommand },
  rollout: { usage: ROLLOUT_USAGE, run: rolloutCommand },
  replay: { usage: REPLAY_USAGE, run: replayCommand },
  explore: { usage: EXPLORE_USAGE, run: exploreCommand },
};

const USAGE = `usage:\n${Object.values(COMMANDS).map((c) => '  ' + c.usage).join('\n')}`;

/** Runs the CLI on argv (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`cairn: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${cmd.usage}`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    console.error(`cairn ${name}: ${(e as Error).message}\n  ${cmd.usage}`);
    if (process.env.CAIRN_DEBUG) console.error((e as Error).stack);
    return 2;
  }
}
