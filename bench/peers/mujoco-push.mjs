// MuJoCo's WASM build (npm mujoco-js) on the peer push scene (push_mocap.xml) with the peer's scripted
// controller and episode sampling, single thread. Port of shared/peers/bench_mujoco_wasm.mjs for the
// push_mocap scene only. Usage: node bench/peers/mujoco-push.mjs <N envs> <timed episodes> [warm-up episodes]
// Prints one JSON line: env_ctrl_steps_per_s (wall), success_rate, ...
import loadMujoco from 'mujoco-js';
import fs from 'node:fs';

const TABLE_C = [1.3, 0.75], BOX_Z = 0.425, Z_PUSH = 0.41, EP_LEN = 50, SUBSTEPS = 20;
const [N, E, W] = process.argv.slice(2).map(Number);
if (!(N > 0 && E > 0)) { console.error('usage: mujoco-push.mjs <N> <episodes> [warmup]'); process.exit(2); }

/** 32-bit LCG (Numerical Recipes constants), as the peer controller. */
function makeRng(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

const mj = await loadMujoco();
mj.FS.mkdir('/w');
mj.FS.writeFile('/w/scene.xml', fs.readFileSync(new URL('./push_mocap.xml', import.meta.url), 'utf8'));
const m = mj.MjModel.loadFromXML('/w/scene.xml');
const jq = (name) => m.jnt_qposadr[mj.mj_name2id(m, 3, name)];
const objQ = jq('object_free'), gripQ = jq('gripper_free');
const mocapId = m.body_mocapid[mj.mj_name2id(m, 1, 'mocap')];
const datas = [], rngs = [], eps = [];
for (let e = 0; e < N; e++) { datas.push(new mj.MjData(m)); rngs.push(makeRng(1234 + e)); eps.push({ box: [0, 0], goal: [0, 0], dir: [1, 0] }); }
let episodes = 0, successes = 0;

function resetEnv(e) {
  const d = datas[e], ep = eps[e], rng = rngs[e];
  mj.mj_resetData(m, d);
  ep.box[0] = TABLE_C[0] + (rng() * 2 - 1) * 0.10; ep.box[1] = TABLE_C[1] + (rng() * 2 - 1) * 0.10;
  ep.goal[0] = TABLE_C[0] + (rng() * 2 - 1) * 0.15; ep.goal[1] = TABLE_C[1] + (rng() * 2 - 1) * 0.15;
  let dx = ep.goal[0] - ep.box[0], dy = ep.goal[1] - ep.box[1];
  const n = Math.hypot(dx, dy);
  if (n > 0.02) { dx /= n; dy /= n; } else { dx = 1; dy = 0; }
  ep.dir[0] = dx; ep.dir[1] = dy;
  const q = d.qpos;
  q[objQ] = ep.box[0]; q[objQ + 1] = ep.box[1]; q[objQ + 2] = BOX_Z; q[objQ + 3] = 1; q[objQ + 4] = 0; q[objQ + 5] = 0; q[objQ + 6] = 0;
  mj.mj_forward(m, d);
}

function controlStep(e, k) {
  const d = datas[e], ep = eps[e];
  if (k === 0) resetEnv(e);
  const q = d.qpos;
  const gx = q[gripQ], gy = q[gripQ + 1], gz = q[gripQ + 2], bx = q[objQ], by = q[objQ + 1];
  const [dx, dy] = ep.dir;
  let tx, ty, tz;
  if (k < 10) { tx = bx - 0.06 * dx; ty = by - 0.06 * dy; tz = 0.5; }
  else if (k < 18) { tx = bx - 0.06 * dx; ty = by - 0.06 * dy; tz = Z_PUSH; }
  else { tx = ep.goal[0] - 0.045 * dx; ty = ep.goal[1] - 0.045 * dy; tz = Z_PUSH; }
  const clip = (x) => Math.max(-1, Math.min(1, x));
  const mp = d.mocap_pos;
  mp[3 * mocapId] = gx + 0.05 * clip(10 * (tx - gx));
  mp[3 * mocapId + 1] = gy + 0.05 * clip(10 * (ty - gy));
  mp[3 * mocapId + 2] = gz + 0.05 * clip(10 * (tz - gz));
  for (let s = 0; s < SUBSTEPS; s++) mj.mj_step(m, d);
  if (k === EP_LEN - 1) {
    episodes++;
    if (Math.hypot(ep.goal[0] - d.qpos[objQ], ep.goal[1] - d.qpos[objQ + 1]) < 0.05) successes++;
  }
}

function run(numEpisodes) {
  for (let ep = 0; ep < numEpisodes; ep++) for (let k = 0; k < EP_LEN; k++) for (let e = 0; e < N; e++) controlStep(e, k);
}
run(W ?? 1);
episodes = 0; successes = 0;
const t0 = performance.now();
run(E);
const wall = (performance.now() - t0) / 1000;
const steps = N * E * EP_LEN;
console.log(JSON.stringify({
  engine: `mujoco-js (MuJoCo ${mj.mj_versionString()} WASM)`, scene: 'push_mocap', N, episodes, dt: 0.002, substeps: SUBSTEPS,
  wall_s: +wall.toFixed(3), env_steps_per_s: Math.round(steps / wall), success_rate: +(successes / episodes).toFixed(3),
}));
