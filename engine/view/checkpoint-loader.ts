/**
 * The page's checkpoint policy: probes the browser's WebGPU, loads and prepares a checkpoint's network on the
 * chosen backend, owns the loaded network, and says where it runs (the backend note and the panel's checkpoint box).
 */
import { chooseBackend, type BackendKind, type GpuProbe } from '../nn/backend-kind.ts';
import { $ } from './dom.ts';
import type { Notes } from './notes.ts';
import type { PolicyChoice } from './params.ts';
import { preparePolicy, probeBrowserGpu, type LoadedCheckpoint, type LoadedPolicy } from './policy.ts';
import type { ActionKind } from './sim.ts';

/** What the page knows about the checkpoint policy. */
export interface CheckpointState {
  /** none: never asked for one; loading; ready: one is loaded; failed: the last load failed (error says why). */
  status: 'none' | 'loading' | 'ready' | 'failed';
  /** The last load's error message, or null. */
  error: string | null;
  /** Where the last load came from: the manifest's URL or the picked files' names. */
  origin: string | null;
  /** The loaded checkpoint's task, env steps, hidden widths and backend (null when none is loaded). */
  task: string | null;
  envSteps: number | null;
  hidden: number[] | null;
  backend: 'webgpu' | 'wasm' | null;
  /** What the panel shows as the backend, e.g. `CPU (WASM)`. */
  backendLabel: string | null;
}

/** The last two path segments of a checkpoint's URL (run directory and file), or the picked files' names. */
function shortOrigin(origin: string): string {
  try {
    const parts = new URL(origin).pathname.split('/').filter(Boolean);
    return parts.slice(-2).join('/');
  } catch {
    return origin;
  }
}

export class CheckpointLoader {
  /** What the browser's WebGPU offers (null while checking). */
  private gpuNow: GpuProbe | null = null;
  private readonly gpuProbe: Promise<GpuProbe>;
  /** The loaded checkpoint policy, whose network this loader owns. */
  private loadedNow: LoadedPolicy | null = null;
  private loadedChoiceNow: PolicyChoice | null = null;
  private status: CheckpointState = { status: 'none', error: null, origin: null, task: null, envSteps: null, hidden: null, backend: null, backendLabel: null };

  /** Starts the WebGPU probe; `backend` is the URL's choice of where a network runs. */
  constructor(private readonly notes: Notes, private readonly backend: BackendKind) {
    this.gpuProbe = probeBrowserGpu().then((g) => {
      this.gpuNow = g;
      this.updateBackendNote();
      this.updatePolicyInfo();
      return g;
    });
  }

  /** What the browser's WebGPU offers (null while checking). */
  get gpu(): GpuProbe | null {
    return this.gpuNow;
  }

  /** The loaded checkpoint policy, or null. */
  get loaded(): LoadedPolicy | null {
    return this.loadedNow;
  }

  /** How the loaded checkpoint was asked for (its URL goes back into the page's URL), or null. */
  get loadedChoice(): PolicyChoice | null {
    return this.loadedChoiceNow;
  }

  /** A copy of what the page knows about the checkpoint. */
  state(): CheckpointState {
    return { ...this.status, hidden: this.status.hidden && [...this.status.hidden] };
  }

  /**
   * Loads a checkpoint and prepares its network on the chosen backend; a failure is shown in the page (an error
   * note and the panel) and yields null. `fallback` is the source that runs while no checkpoint is loaded.
   */
  async prepare(origin: string, load: () => Promise<LoadedCheckpoint>, fallback: ActionKind): Promise<LoadedPolicy | null> {
    this.status = { ...this.status, status: 'loading', error: null, origin };
    this.notes.set('checkpoint', 'info', `loading checkpoint ${origin} …`);
    this.updatePolicyInfo();
    let policy: LoadedPolicy;
    try {
      const ck = await load();
      policy = await preparePolicy(ck, chooseBackend(this.backend, await this.gpuProbe));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.status = { ...this.status, status: 'failed', error: msg, origin };
      const what = this.loadedNow ? 'the previously loaded policy keeps running' : `actions come from the ${fallback === 'random' ? 'random' : 'scripted'} source instead`;
      this.notes.set('checkpoint', 'error', `${msg}. Nothing was loaded; ${what}.`);
      console.warn(`view: ${msg}`);
      this.updatePolicyInfo();
      return null;
    }
    this.notes.set('checkpoint', 'info', null);
    return policy;
  }

  /** Makes a prepared policy the loaded one (destroying the previous network: call it while nothing steps with it). */
  install(policy: LoadedPolicy, choice: PolicyChoice, origin: string): void {
    const old = this.loadedNow, m = policy.checkpoint.manifest;
    this.loadedNow = policy;
    this.loadedChoiceNow = choice;
    old?.net.destroy();
    this.status = {
      status: 'ready', error: null, origin, task: m.task, envSteps: m.envSteps, hidden: [...m.hidden], backend: policy.net.kind, backendLabel: policy.label,
    };
    this.updateBackendNote();
    this.updatePolicyInfo();
  }

  /** The note that says where a policy network runs (or would run) and why. */
  private updateBackendNote(): void {
    const gpu = this.gpuNow;
    if (!gpu) return;
    const physics = 'Physics runs on the CPU (Rapier WASM) either way.';
    if (this.loadedNow) {
      const b = this.loadedNow.backend;
      this.notes.set('webgpu', b.warn ? 'warn' : 'info', `Policy network on ${this.loadedNow.label} — ${b.why}. ${physics}`);
    } else {
      const d = chooseBackend(this.backend, gpu);
      this.notes.set('webgpu', d.warn ? 'warn' : 'info', `A checkpoint's policy network would run on ${d.kind === 'webgpu' ? 'WebGPU' : 'the CPU (WASM backend)'} — ${d.why}. ${physics}`);
    }
  }

  /** The panel's checkpoint box: what is loaded, where it runs, or why loading failed. */
  updatePolicyInfo(): void {
    const c = this.status, loaded = this.loadedNow, m = loaded?.checkpoint.manifest;
    const rows: [string, string, string?][] = [];
    if (c.status === 'loading') rows.push(['status', `loading ${c.origin} …`]);
    if (c.status === 'failed') rows.push(['error', c.error ?? '', 'error']);
    if (m && loaded) {
      const run = (m.config as { run?: { shaping?: string; numEnvs?: number } }).run;
      rows.push(['checkpoint', shortOrigin(loaded.checkpoint.origin)]);
      rows.push(['trained', `${m.task}${run?.shaping ? `, ${run.shaping} reward` : ''}, ${m.envSteps.toLocaleString('en-US')} env steps`]);
      rows.push(['network', `${m.obsDim} → ${m.hidden.join(' → ')} → ${m.actDim} (mean action)`]);
      rows.push(['backend', loaded.label, 'backend']);
    } else {
      if (c.status === 'none') rows.push(['status', 'none loaded: pick checkpoint.json and its weights-….bin of a cairn train run, or open ?policy=URL']);
      const d = this.gpuNow ? chooseBackend(this.backend, this.gpuNow) : null;
      rows.push(['backend', d ? `${d.kind === 'webgpu' ? 'WebGPU' : 'CPU (WASM)'} when a checkpoint is loaded` : 'checking WebGPU …', 'backend']);
    }
    $('policy-info').replaceChildren(...rows.flatMap(([k, v, cls]) => {
      const dt = document.createElement('dt'), dd = document.createElement('dd');
      dt.textContent = k;
      dd.textContent = v;
      if (cls === 'error') dd.className = 'error';
      if (cls === 'backend') dd.id = 'policy-backend';
      return [dt, dd];
    }));
  }
}
