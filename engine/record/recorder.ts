/**
 * Records the episodes a vector env plays: call `start()` right after `env.reset()` and `afterStep()` after every
 * `env.step()`; each env's running episode is kept as its start row and one step record per step (engine/record/
 * format.ts), and an episode that ends is kept, up to `maxEpisodes`. `encode()` gives the file's bytes.
 */
import type { VecEnv } from '../env.ts';
import { MAX_REWARD_TERMS } from '../batch.ts';
import { REWARD_TERM_NAMES } from '../shaping/stats.ts';
import { packReachedRow, packRow } from '../state.ts';
import { encodeRecording, RECORDING_VERSION, stepFields, stepWidth, type EpisodeEntry, type RecordingManifest } from './format.ts';

export class EpisodeRecorder {
  readonly env: VecEnv;
  readonly maxEpisodes: number;
  /** Finished episodes kept so far: their entry (offset filled at encode) and floats. */
  private readonly kept: { entry: EpisodeEntry; floats: Float32Array }[] = [];
  /** Per env, the running episode's floats (start row, then step records) and its length in floats. */
  private running: Float32Array[] = [];
  private used: Int32Array;
  private sparseReturn: Float64Array;
  private readonly row: Float32Array;
  private readonly seed: number;
  private readonly domainRandomization: unknown;

  /** `seed` and `domainRandomization` are those the env was made with (stored for an exact replay). */
  constructor(env: VecEnv, opts: { maxEpisodes: number; seed: number; domainRandomization?: unknown }) {
    if (!Number.isInteger(opts.maxEpisodes) || opts.maxEpisodes < 1) throw new Error(`recorder: maxEpisodes must be a positive integer, got ${opts.maxEpisodes}`);
    this.env = env;
    this.maxEpisodes = opts.maxEpisodes;
    this.seed = opts.seed;
    this.domainRandomization = opts.domainRandomization ?? null;
    this.used = new Int32Array(env.numEnvs);
    this.sparseReturn = new Float64Array(env.numEnvs);
    this.row = new Float32Array(env.stateLayout.rowWidth);
  }

  /** Whether maxEpisodes episodes have been kept. */
  get full(): boolean {
    return this.kept.length >= this.maxEpisodes;
  }

  /** Episodes kept so far. */
  get episodes(): number {
    return this.kept.length;
  }

  /** Begins an episode in every env from the state the env holds now (call right after reset). */
  start(): void {
    const W = this.env.stateLayout.rowWidth, S = this.width;
    const cap = W + this.env.task.maxEpisodeSteps * S;
    this.running = Array.from({ length: this.env.numEnvs }, () => new Float32Array(cap));
    for (let g = 0; g < this.env.numEnvs; g++) this.begin(g);
  }

  /** Appends the step every env just took; an env whose episode ended keeps it (while not full) and begins the next. */
  afterStep(): void {
    if (!this.running.length) throw new Error('recorder: call start() after env.reset() before afterStep()');
    const env = this.env, b = env.batch, A = env.actDim, T = MAX_REWARD_TERMS, L = env.stateLayout, W = L.rowWidth, S = this.width;
    const f = stepFields({ actDim: A, numTerms: T });
    for (let g = 0; g < env.numEnvs; g++) {
      const buf = this.running[g];
      let at = this.used[g];
      if (at + S > buf.length) throw new Error(`recorder: env ${g} ran past its episode's ${env.task.maxEpisodeSteps} steps`);
      buf[at + f.reward] = b.reward[g];
      buf[at + f.shapedReward] = b.shapedReward[g];
      packReachedRow(b, L, g, buf, at + f.row);
      buf[at + f.stage] = buf[at + f.row + L.fields.stage[0]];
      buf[at + f.success] = b.success[g];
      for (let k = 0; k < A; k++) buf[at + f.action + k] = b.action[g * A + k];
      for (let k = 0; k < T; k++) buf[at + f.terms + k] = b.rewardTerms[g * T + k];
      at += S;
      this.used[g] = at;
      this.sparseReturn[g] += b.reward[g];
      if (!b.done[g]) continue;
      if (!this.full) {
        const steps = (at - W) / S;
        this.kept.push({ entry: { env: g, steps, success: b.success[g] === 1, return: this.sparseReturn[g], offset: 0 }, floats: buf.slice(0, at) });
      }
      this.begin(g);
    }
  }

  /** The recording file's bytes: every kept episode, in the order they finished. */
  async encode(): Promise<Uint8Array> {
    const env = this.env;
    let total = 0;
    for (const k of this.kept) total += k.floats.length;
    const payload = new Float32Array(total);
    const episodes: EpisodeEntry[] = [];
    let at = 0;
    for (const k of this.kept) {
      payload.set(k.floats, at);
      episodes.push({ ...k.entry, offset: at });
      at += k.floats.length;
    }
    const manifest: Omit<RecordingManifest, 'sha256' | 'payloadFloats'> = {
      format: 'cairn-recording', version: RECORDING_VERSION, task: env.task.name, numEnvs: env.numEnvs, numWorkers: env.numWorkers, seed: this.seed,
      physics: { ...env.physics } as unknown as Record<string, number>, domainRandomization: this.domainRandomization, actDim: env.actDim, numTerms: MAX_REWARD_TERMS,
      termNames: [...REWARD_TERM_NAMES], stageNames: [...env.stageNames], subgoals: env.subgoals, controlDt: env.controlDt, stateLayout: env.stateLayout, episodes,
    };
    return encodeRecording(manifest, payload);
  }

  private get width(): number {
    return stepWidth({ actDim: this.env.actDim, numTerms: MAX_REWARD_TERMS, stateLayout: this.env.stateLayout });
  }

  /** Starts env g's episode record with the row of the state it holds now. */
  private begin(g: number): void {
    const L = this.env.stateLayout;
    packRow(this.env.batch, L, g, this.row, 0);
    this.running[g].set(this.row, 0);
    this.used[g] = L.rowWidth;
    this.sparseReturn[g] = 0;
  }
}
