/**
 * Glue to the AssemblyScript shaping kernel (assembly/shaping.ts): compiles a spec into the table in the
 * batch memory's reserved scratch, instantiates the kernel on the batch's own memory and runs it on slices.
 *
 * One thread (the one that owns the env) calls `ShapingKernel.create`, which writes the table and the config;
 * each worker thread that runs slices of the same shared batch calls `ShapingKernel.attach` with its own
 * `slot` (its worker index), which checks that the table holds the same spec. The config lives in the table,
 * so `setConfig` on the owner reaches every worker at their next step; call it between steps.
 */
import { compileWasmOnce } from '../wasm-load.ts';
import type { Batch } from '../batch.ts';
import { checkRange, prepareShaper, type Shaper } from './shaper.ts';
import { validateShapingConfig, type ShapingConfig, type SubgoalSpec } from './spec.ts';
import {
  checkTableOffset, encodeSpec, MAX_SLOTS, readConfig, SHAPING_TABLE_OFFSET, SLOT_BYTES, SLOTS_OFFSET, specBytesEqual, TABLE_BYTES, TABLE_VERSION,
  writeConfig,
} from './table.ts';

/** Where the .wasm comes from and which thread slot this instance uses. */
export interface ShapingKernelOptions {
  /** The kernel's .wasm bytes (a browser passes fetched bytes); default: read from build/assembly/ in Node. */
  wasmBytes?: BufferSource;
  /** An already compiled kernel module (e.g. posted to a worker); takes precedence over wasmBytes. */
  module?: WebAssembly.Module;
  /** Whether batch.memory is shared (selects shaping.shared.wasm); default: detected from the memory. */
  shared?: boolean;
  /** This thread's scratch slot in [0, MAX_SLOTS): the worker index; default 0. */
  slot?: number;
  /** Byte address of the table in the batch memory (multiple of 16, table under KERNEL_RESERVED_BYTES); default SHAPING_TABLE_OFFSET. */
  tableOffset?: number;
}

interface KernelExports {
  step(table: number, lo: number, hi: number, slot: number): void;
  reset(table: number, lo: number, hi: number, onlyDone: number, slot: number): void;
  refreshPotential(table: number, lo: number, hi: number, slot: number): void;
  SHAPING_LAYOUT_VERSION: WebAssembly.Global;
  SHAPING_LAYOUT_TABLE_BYTES: WebAssembly.Global;
  SHAPING_LAYOUT_SLOT_BYTES: WebAssembly.Global;
  SHAPING_LAYOUT_MAX_SLOTS: WebAssembly.Global;
}

/** Compiles (once per variant and thread) the kernel read from build/assembly/shaping[.shared].wasm. */
export function loadShapingModule(shared: boolean): Promise<WebAssembly.Module> {
  return compileWasmOnce(new URL(`../../build/assembly/${shared ? 'shaping.shared.wasm' : 'shaping.wasm'}`, import.meta.url));
}

function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

async function instantiate(batch: Batch, opts: ShapingKernelOptions): Promise<KernelExports> {
  const shared = isSharedMemory(batch.memory);
  if (opts.shared !== undefined && opts.shared !== shared) {
    throw new Error(`shaping: options.shared is ${opts.shared} but the batch memory is ${shared ? '' : 'not '}shared`);
  }
  const module = opts.module ?? (opts.wasmBytes ? await WebAssembly.compile(opts.wasmBytes) : await loadShapingModule(shared));
  const abort = (): never => {
    throw new Error('shaping kernel: abort');
  };
  const instance = await WebAssembly.instantiate(module, { env: { memory: batch.memory, abort } });
  const x = instance.exports as unknown as KernelExports;
  const want: [keyof KernelExports, number][] = [
    ['SHAPING_LAYOUT_VERSION', TABLE_VERSION], ['SHAPING_LAYOUT_TABLE_BYTES', TABLE_BYTES], ['SHAPING_LAYOUT_SLOT_BYTES', SLOT_BYTES],
    ['SHAPING_LAYOUT_MAX_SLOTS', MAX_SLOTS],
  ];
  for (const [k, v] of want) {
    const got = (x[k] as WebAssembly.Global | undefined)?.value;
    if (got !== v) throw new Error(`shaping: the kernel's ${k} is ${got}, the glue expects ${v}; rebuild with \`npm run build:assembly\``);
  }
  return x;
}

/** The WASM shaping kernel bound to one batch and one thread slot. */
export class ShapingKernel implements Shaper {
  readonly batch: Batch;
  readonly spec: SubgoalSpec;
  readonly pointNames: readonly string[];
  readonly stageNames: readonly string[];
  readonly numStages: number;
  /** This instance's scratch slot. */
  readonly slot: number;
  /** Byte address of the table in the batch memory. */
  readonly tableOffset: number;
  private x: KernelExports | null;

  /**
   * Validates spec (against the task's point names, in batch.points order) and config, writes the table into
   * the batch memory and instantiates the kernel. Call reset(0, N, false) once the envs hold their first state.
   */
  static async create(batch: Batch, spec: unknown, pointNames: readonly string[], config: Partial<ShapingConfig>, opts: ShapingKernelOptions = {}): Promise<ShapingKernel> {
    const p = prepareShaper(batch, spec, pointNames, config);
    const base = opts.tableOffset ?? SHAPING_TABLE_OFFSET;
    checkTableOffset(base);
    const x = await instantiate(batch, opts);
    new Uint8Array(batch.memory.buffer, base, SLOTS_OFFSET).set(encodeSpec(p.compiled, batch.layout));
    writeConfig(batch.memory, base, p.config);
    return new ShapingKernel(batch, p, opts.slot ?? 0, base, x);
  }

  /**
   * Binds a worker thread to the table the owner's `create` wrote into the shared batch memory (same spec and
   * point names, checked byte for byte), with the worker's own slot. The config is the owner's.
   */
  static async attach(batch: Batch, spec: unknown, pointNames: readonly string[], opts: ShapingKernelOptions & { slot: number }): Promise<ShapingKernel> {
    const base = opts.tableOffset ?? SHAPING_TABLE_OFFSET;
    checkTableOffset(base);
    const p = prepareShaper(batch, spec, pointNames, {});
    const x = await instantiate(batch, opts);
    if (!specBytesEqual(encodeSpec(p.compiled, batch.layout), new Uint8Array(batch.memory.buffer, base, SLOTS_OFFSET))) {
      throw new Error(`shaping: the table at ${base} does not hold this spec; the owner must create the kernel first, with the same spec and point names`);
    }
    return new ShapingKernel(batch, p, opts.slot, base, x);
  }

  private constructor(batch: Batch, p: ReturnType<typeof prepareShaper>, slot: number, base: number, x: KernelExports) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new Error(`shaping: slot must be an integer in [0, ${MAX_SLOTS}), got ${slot}`);
    this.batch = batch;
    this.spec = p.spec;
    this.pointNames = p.compiled.pointNames;
    this.stageNames = p.compiled.stages.map((s) => s.name);
    this.numStages = p.compiled.stages.length;
    this.slot = slot;
    this.tableOffset = base;
    this.x = x;
  }

  /** The config in the table (shared by every thread on the batch). */
  get config(): ShapingConfig {
    return readConfig(this.batch.memory, this.tableOffset);
  }

  setConfig(config: Partial<ShapingConfig>): void {
    const x = this.live();
    const cur = this.config;
    const next = validateShapingConfig({ ...cur, ...config });
    writeConfig(this.batch.memory, this.tableOffset, next);
    if (next.weight !== cur.weight) x.refreshPotential(this.tableOffset, 0, this.batch.numEnvs, this.slot);
  }

  step(lo = 0, hi = this.batch.numEnvs): void {
    const x = this.live();
    checkRange(lo, hi, this.batch.numEnvs);
    x.step(this.tableOffset, lo, hi, this.slot);
  }

  refreshPotential(lo = 0, hi = this.batch.numEnvs): void {
    const x = this.live();
    checkRange(lo, hi, this.batch.numEnvs);
    x.refreshPotential(this.tableOffset, lo, hi, this.slot);
  }

  reset(lo = 0, hi = this.batch.numEnvs, onlyDone = false): void {
    const x = this.live();
    checkRange(lo, hi, this.batch.numEnvs);
    x.reset(this.tableOffset, lo, hi, onlyDone ? 1 : 0, this.slot);
  }

  /**
   * Drops the kernel instance; the batch memory and the table in it are left as they are (the batch owns
   * them). Any call afterwards throws.
   */
  free(): void {
    this.x = null;
  }

  private live(): KernelExports {
    if (!this.x) throw new Error('shaping: used after free()');
    return this.x;
  }
}
