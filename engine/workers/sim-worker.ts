/** A sim worker (a Node worker thread or a page's Web Worker): owns a SimSlice of a shared batch and runs the commands the main thread posts. */
import { viewBatch, type BatchLayout } from '../batch.ts';
import type { PhysicsConfig } from '../physics/config.ts';
import { loadRapier } from '../physics/rapier.ts';
import { SimSlice } from '../sim-slice.ts';
import { ShapingKernel } from '../shaping/kernel.ts';
import type { SubgoalSpec } from '../shaping/spec.ts';
import type { DomainRandomization } from '../domain-randomization.ts';
import { getTask } from '../../tasks/registry.ts';
import { controlOf, readMessage } from '../threads/control.ts';
import { serveCommands } from '../threads/serve.ts';
import { workerStartup } from '../threads/startup.ts';
import { CMD_CLOSE, CMD_RESET, CMD_RESET_SEEDED, CMD_STEP, CMD_WRITE_STATE, SIM_CONTROL } from './protocol.ts';

/** What the main thread hands each worker at start. */
export interface SimWorkerData {
  memory: WebAssembly.Memory;
  layout: BatchLayout;
  control: SharedArrayBuffer;
  index: number;
  lo: number;
  hi: number;
  taskName: string;
  seed: number;
  physics: PhysicsConfig;
  /** The subgoal spec the owner compiled into the batch memory. */
  subgoals: SubgoalSpec;
  /** Validated domain-randomization ranges, or null. */
  domainRandomization: DomainRandomization | null;
  /** End episodes on an infraction (EnvOptions.terminateOnInfraction). */
  terminateOnInfraction: boolean;
}

const { data, ready } = await workerStartup<SimWorkerData>();
const ctrl = controlOf(data.control, SIM_CONTROL, data.index);
const R = await loadRapier();
const batch = viewBatch(data.memory, data.layout);
const task = getTask(data.taskName);
const slice = new SimSlice(R, task, batch, data.lo, data.hi, data.seed, data.physics, data.domainRandomization, data.terminateOnInfraction);
const shaper = await ShapingKernel.attach(batch, data.subgoals, task.pointNames, { slot: data.index });
slice.shaping = shaper;
ready();

serveCommands(ctrl, `sim worker ${data.index}`, CMD_CLOSE, (cmd) => {
  if (cmd === CMD_STEP) slice.step();
  else if (cmd === CMD_RESET) slice.resetAll();
  else if (cmd === CMD_RESET_SEEDED) {
    const { seed, startEpisode } = JSON.parse(readMessage(ctrl)) as { seed: number; startEpisode: number };
    slice.resetAll(seed, startEpisode);
  } else if (cmd === CMD_WRITE_STATE) slice.writePending();
  else if (cmd === CMD_CLOSE) {
    slice.free();
    shaper.free();
  } else throw new Error(`unknown command ${cmd}`);
});
