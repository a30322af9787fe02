/**
 * The view's URL parameters, so that a link opens a given scene:
 * `?task=push&envs=64&shaping=pbrs&policy=scripted&seed=1&spf=1&focus=3`.
 *
 * | name    | values                                                                    | default  |
 * |---------|---------------------------------------------------------------------------|----------|
 * | task    | task name (any case): reach, push, pickandplace, slide, stack             | push     |
 * | envs    | integer in [1, MAX_VIEW_ENVS]                                             | 64       |
 * | shaping | sparse, dense, pbrs, bonus, gated, progress                               | sparse   |
 * | policy  | random, scripted, or the URL of a checkpoint.json or of its run directory | scripted |
 * | backend | where a checkpoint's network runs: auto, wasm, webgpu                     | auto     |
 * | seed    | uint32 seed of the episodes (and of the random policy)                    | 0        |
 * | spf     | env steps per animation frame: 0.25, 0.5, 1, 2, 4 or 8                    | 1        |
 * | focus   | index of the env the camera follows                                       | none     |
 * | replay  | URL of a cairn recording to play back instead of running envs             | none     |
 *
 * A checkpoint URL may be relative to the page (`policy=runs/reach/`); a checkpoint loaded from a URL sets the
 * task to the one it was trained on. `backend=auto` runs the network on WebGPU when the browser has a real
 * (non-fallback) GPU adapter and on the WASM CPU backend otherwise; `webgpu` forces WebGPU even on a software
 * adapter, `wasm` forces the CPU. A bad value never stops the page: it falls back to the default and yields a
 * warning the page shows.
 */
import { BACKEND_KINDS, type BackendKind } from '../nn/backend-kind.ts';
import { SHAPING_MODES, type ShapingMode } from '../shaping/spec.ts';
import { listTasks } from '../../tasks/registry.ts';

/** Most envs the view offers (the physics runs in the tab's main thread). */
export const MAX_VIEW_ENVS = 4096;
/** Env counts offered by the panel's selector. */
export const ENV_COUNTS = [1, 4, 9, 16, 64, 256, 1024] as const;
/** Steps-per-frame values offered by the panel (fractions skip frames). */
export const STEPS_PER_FRAME = [0.25, 0.5, 1, 2, 4, 8] as const;

/**
 * Where actions come from: a built-in source, a checkpoint URL, or checkpoint files picked in the panel
 * (which a URL cannot name, so formatViewParams leaves `policy` out for them).
 */
export type PolicyChoice = { kind: 'random' } | { kind: 'scripted' } | { kind: 'checkpoint'; url: string } | { kind: 'file'; name: string };


/** The scene a URL asks for, after validation. */
export interface ViewParams {
  /** Registered task name, e.g. 'Push'. */
  task: string;
  numEnvs: number;
  shaping: ShapingMode;
  policy: PolicyChoice;
  backend: BackendKind;
  seed: number;
  stepsPerFrame: number;
  /** Env the camera follows, or null for the overview. */
  focus: number | null;
  /** URL of a recording (engine/record/format.ts) to replay instead of running envs; absent for the live view. */
  replay?: string;
}

/** Parsed parameters plus one message per value that was rejected. */
export interface ParsedParams {
  params: ViewParams;
  warnings: string[];
}

const DEFAULTS: ViewParams = { task: 'Push', numEnvs: 64, shaping: 'sparse', policy: { kind: 'scripted' }, backend: 'auto', seed: 0, stepsPerFrame: 1, focus: null };
export const DEFAULT_PARAMS: Readonly<ViewParams> = Object.freeze(DEFAULTS);

function parseIntIn(s: string, lo: number, hi: number): number | null {
  if (!/^\s*\d+\s*$/.test(s)) return null;
  const v = Number(s);
  return Number.isSafeInteger(v) && v >= lo && v <= hi ? v : null;
}

/** Reads the view's parameters from a query string (`location.search`). */
export function parseViewParams(search: string): ParsedParams {
  const q = new URLSearchParams(search);
  const p: ViewParams = { ...DEFAULT_PARAMS };
  const warnings: string[] = [];
  const task = q.get('task');
  if (task !== null) {
    const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
    const hit = listTasks().find((t) => norm(t) === norm(task));
    if (hit) p.task = hit;
    else warnings.push(`task=${task}: unknown task (known: ${listTasks().join(', ')}); showing ${p.task}`);
  }
  const envs = q.get('envs');
  if (envs !== null) {
    const v = parseIntIn(envs, 1, MAX_VIEW_ENVS);
    if (v !== null) p.numEnvs = v;
    else warnings.push(`envs=${envs}: expected an integer in [1, ${MAX_VIEW_ENVS}]; using ${p.numEnvs}`);
  }
  const shaping = q.get('shaping');
  if (shaping !== null) {
    const m = shaping.toLowerCase();
    if ((SHAPING_MODES as readonly string[]).includes(m)) p.shaping = m as ShapingMode;
    else warnings.push(`shaping=${shaping}: expected one of ${SHAPING_MODES.join(', ')}; using ${p.shaping}`);
  }
  const policy = q.get('policy');
  if (policy !== null) {
    const m = policy.trim();
    if (m.toLowerCase() === 'random') p.policy = { kind: 'random' };
    else if (m.toLowerCase() === 'scripted') p.policy = { kind: 'scripted' };
    else if (m.length > 0) p.policy = { kind: 'checkpoint', url: m };
    else warnings.push(`policy=: expected random, scripted or a checkpoint URL; using scripted`);
  }
  const backend = q.get('backend');
  if (backend !== null) {
    const m = backend.trim().toLowerCase();
    if ((BACKEND_KINDS as readonly string[]).includes(m)) p.backend = m as BackendKind;
    else warnings.push(`backend=${backend}: expected one of ${BACKEND_KINDS.join(', ')}; using ${p.backend}`);
  }
  const seed = q.get('seed');
  if (seed !== null) {
    const v = parseIntIn(seed, 0, 0xffffffff);
    if (v !== null) p.seed = v;
    else warnings.push(`seed=${seed}: expected an integer in [0, 4294967295]; using ${p.seed}`);
  }
  const spf = q.get('spf');
  if (spf !== null) {
    const v = Number(spf);
    if ((STEPS_PER_FRAME as readonly number[]).includes(v)) p.stepsPerFrame = v;
    else warnings.push(`spf=${spf}: expected one of ${STEPS_PER_FRAME.join(', ')}; using ${p.stepsPerFrame}`);
  }
  const focus = q.get('focus');
  if (focus !== null && focus !== '') {
    const v = parseIntIn(focus, 0, p.numEnvs - 1);
    if (v !== null) p.focus = v;
    else warnings.push(`focus=${focus}: expected an env index in [0, ${p.numEnvs - 1}]; showing all envs`);
  }
  const replay = q.get('replay');
  if (replay !== null) {
    if (replay.trim().length > 0) p.replay = replay.trim();
    else warnings.push('replay=: expected the URL of a recording; running the live view');
  }
  return { params: p, warnings };
}

/** The query string that reopens a scene (seed, spf and backend only when not the default, `focus` only when set). */
export function formatViewParams(p: ViewParams): string {
  const q = new URLSearchParams();
  q.set('task', p.task.toLowerCase());
  q.set('envs', String(p.numEnvs));
  q.set('shaping', p.shaping);
  if (p.policy.kind === 'checkpoint') q.set('policy', p.policy.url);
  else if (p.policy.kind !== 'file') q.set('policy', p.policy.kind);
  if (p.backend !== DEFAULT_PARAMS.backend) q.set('backend', p.backend);
  if (p.seed !== DEFAULT_PARAMS.seed) q.set('seed', String(p.seed));
  if (p.stepsPerFrame !== DEFAULT_PARAMS.stepsPerFrame) q.set('spf', String(p.stepsPerFrame));
  if (p.focus !== null) q.set('focus', String(p.focus));
  if (p.replay !== undefined) q.set('replay', p.replay);
  return `?${q.toString()}`;
}
