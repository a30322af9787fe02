/**
 * `cairn render RUN_DIR --episodes 4 --out policy.gif`: plays a run's checkpoint in the view (headless Chromium
 * through playwright-core, the page served by Vite) and encodes the frames as a GIF with gifenc. A repository
 * command: the view, Vite and playwright-core are not in the package.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAtomic } from '../fs-atomic.ts';
import { loadCheckpoint } from '../train/checkpoint-fs.ts';
import { getTask } from '../../tasks/registry.ts';
import { checkIntIn } from '../numeric.ts';
import { flag } from './args.ts';
import { parseCommand, type CommandSpec } from './command.ts';
import { checkWritableFile } from './paths.ts';
import { ProgressBar } from './progress.ts';

/** `cairn render`'s flags. */
export const RENDER_SPEC: CommandSpec = {
  name: 'render',
  summary: 'Record a GIF of a run\'s policy (mean action) playing in the view, in headless Chromium.',
  positional: { name: 'RUN_DIR', help: 'run directory (or its checkpoint.json)' },
  flags: {
    episodes: { kind: 'number', help: 'episodes to record', default: 4 },
    envs: { kind: 'number', help: 'envs in the scene (the camera follows env 0)', default: 1 },
    every: { kind: 'number', help: 'control steps per frame', default: 2 },
    fps: { kind: 'number', help: 'GIF frames per second', default: 12 },
    width: { kind: 'number', help: 'frame width in pixels (height 9/16 of it)', default: 480 },
    seed: { kind: 'number', help: 'episode seed', default: 0 },
    out: { kind: 'string', help: 'GIF file', default: 'RUN_DIR/policy.gif', value: 'file' },
    chromium: { kind: 'string', help: 'Chromium executable', default: '/usr/bin/chromium', value: 'path' },
  },
};

/** The repository root (where index.html and the view's sources are), two levels above this file. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** URL prefix under which the page fetches the run's files (served from RUN_DIR by request interception). */
const RUN_PREFIX = '/__cairn_render_run__/';

/** What render uses of the view's window.cairnView hook (engine/view/main.ts, ViewHandle); the view is not in the package build. */
interface ViewHook {
  state(): { ready: boolean; error: string | null; policy: string; checkpoint: { status: string; error: string | null } };
  restart(): Promise<void>;
  advance(steps: number, width: number, height: number): Promise<string>;
}
type HookWindow = { cairnView?: ViewHook };

/** Imports a repository-only module with a clear error where it is missing (an installed package). */
async function need<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch {
    throw new Error(`cairn render needs ${name} and the view's sources, which only a clone of the repository has (npm ci there)`);
  }
}


/** Runs `cairn render`; returns the exit code. */
export async function renderCommand(argv: string[]): Promise<number> {
  const f = parseCommand(RENDER_SPEC, argv);
  const where = f.positional?.[0];
  if (!where) throw new Error('render needs a run directory (or its checkpoint.json)');
  const episodes = checkIntIn('--episodes', flag(f, 'episodes', 4), 1, 100);
  const envs = checkIntIn('--envs', flag(f, 'envs', 1), 1, 64);
  const every = checkIntIn('--every', flag(f, 'every', 2), 1, 50);
  const fps = checkIntIn('--fps', flag(f, 'fps', 12), 1, 50);
  const width = checkIntIn('--width', flag(f, 'width', 480), 64, 1920);
  const seed = checkIntIn('--seed', flag(f, 'seed', 0), 0, 0xffffffff);
  const runDir = where.endsWith('.json') ? path.dirname(where) : where;
  const { manifest } = await loadCheckpoint(where);
  const out = flag(f, 'out', path.join(runDir, 'policy.gif'));
  await checkWritableFile(out, '--out');
  const chromiumPath = flag(f, 'chromium', '/usr/bin/chromium');
  if (!existsSync(chromiumPath)) throw new Error(`--chromium ${chromiumPath} does not exist (Debian: apt-get install chromium)`);
  if (!existsSync(path.join(REPO_ROOT, 'index.html'))) throw new Error('cairn render needs the view (index.html), which only a clone of the repository has');
  const { createServer } = await need<typeof import('vite')>('vite');
  const { chromium } = await need<typeof import('playwright-core')>('playwright-core');
  const { GIFEncoder, quantize, applyPalette } = await need<typeof import('gifenc')>('gifenc');

  const height = Math.round((width * 9) / 16 / 2) * 2;
  const steps = episodes * getTask(manifest.task).maxEpisodeSteps;
  const frames = Math.ceil(steps / every);
  const server = await createServer({ root: REPO_ROOT, logLevel: 'error', server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false } });
  await server.listen();
  const addr = server.httpServer?.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader', '--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.route(`**${RUN_PREFIX}**`, async (route) => {
      const name = path.basename(new URL(route.request().url()).pathname);
      const file = path.join(runDir, name);
      if (!/^[\w.-]+$/.test(name) || !existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
      await route.fulfill({ status: 200, body: await fs.readFile(file), contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    });
    await page.goto(`${base}?policy=${encodeURIComponent(`${RUN_PREFIX}checkpoint.json`)}&envs=${envs}&seed=${seed}&backend=wasm&focus=0`);
    await page.waitForFunction(() => {
      const s = (window as unknown as HookWindow).cairnView?.state();
      return s !== undefined && ((s.ready && s.checkpoint.status === 'ready' && s.policy === 'policy') || s.error !== null || s.checkpoint.status === 'failed');
    }, undefined, { timeout: 60_000, polling: 100 });
    const st = await page.evaluate(() => (window as unknown as HookWindow).cairnView!.state());
    if (st.error || st.checkpoint.status === 'failed') throw new Error(`the view could not play ${where}: ${st.error ?? st.checkpoint.error}`);
    await page.evaluate(() => (window as unknown as HookWindow).cairnView!.restart());
    // The camera eases onto the followed env over a few drawn frames: let it settle before the first frame.
    await page.waitForTimeout(600);
    const gif = GIFEncoder();
    const bar = new ProgressBar(frames, 'render');
    for (let k = 0; k < frames; k++) {
      const b64 = await page.evaluate(([n, w, h]) => (window as unknown as HookWindow).cairnView!.advance(n, w, h), [k === 0 ? 0 : every, width, height] as const);
      const rgba = new Uint8Array(Buffer.from(b64, 'base64'));
      const palette = quantize(rgba, 256);
      gif.writeFrame(applyPalette(rgba, palette), width, height, { palette, delay: Math.round(1000 / fps) });
      bar.update(k + 1, `${Math.min(steps, k * every)} of ${steps} steps`);
    }
    bar.finish();
    gif.finish();
    await writeAtomic(out, gif.bytes());
    console.log(`wrote ${out}: ${frames} frames of ${manifest.task} (${episodes} episode(s), ${width}×${height}, ${fps} fps)`);
    return 0;
  } finally {
    await browser.close();
    await server.close();
  }
}
