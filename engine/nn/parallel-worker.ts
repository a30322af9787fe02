/** A kernel worker of ParallelWasmBackend (a Node worker thread or a page's Web Worker): runs the mlp kernel on its lane's table in the shared memory, on command. */
import { controlOf } from '../threads/control.ts';
import { serveCommands } from '../threads/serve.ts';
import { workerStartup } from '../threads/startup.ts';
import {
  PAR_CLIP_COEF, PAR_CLIP_VLOSS, PAR_CMD_ACT, PAR_CMD_CLOSE, PAR_CMD_GRAD, PAR_CMD_VALUE, PAR_CONTROL, PAR_DETERMINISTIC, PAR_ENT_COEF,
  PAR_ENV_OFFSET, PAR_N, PAR_SEED, PAR_STEP, PAR_VF_COEF, type ParallelWorkerData,
} from './parallel-protocol.ts';
import { instantiateMlp } from './wasm-backend.ts';

const { data, ready } = await workerStartup<ParallelWorkerData>();
const ctrl = controlOf(data.control, PAR_CONTROL, data.index);
const x = await instantiateMlp(data.module, data.memory, 'parallel wasm worker');
const t = data.table;
ready();

serveCommands(ctrl, `parallel wasm worker ${data.index}`, PAR_CMD_CLOSE, (cmd) => {
  const n = Atomics.load(ctrl.ints, PAR_N);
  if (cmd === PAR_CMD_GRAD) {
    x.forward(t, n, 3);
    x.lossBackward(t, n, ctrl.f64[PAR_CLIP_COEF], Atomics.load(ctrl.ints, PAR_CLIP_VLOSS), ctrl.f64[PAR_ENT_COEF], ctrl.f64[PAR_VF_COEF], 0);
  } else if (cmd === PAR_CMD_ACT) {
    x.forward(t, n, 3);
    x.sample(t, n, Atomics.load(ctrl.ints, PAR_SEED), Atomics.load(ctrl.ints, PAR_STEP), Atomics.load(ctrl.ints, PAR_ENV_OFFSET), Atomics.load(ctrl.ints, PAR_DETERMINISTIC));
  } else if (cmd === PAR_CMD_VALUE) {
    x.forward(t, n, 2);
  } else if (cmd !== PAR_CMD_CLOSE) throw new Error(`unknown command ${cmd}`);
});
