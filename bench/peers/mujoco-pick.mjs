// MuJoCo's WASM build (npm mujoco-js) on the peer pick-and-place scene (pick_mocap.xml) with the peer's
// scripted pick and episode sampling, single thread. Port of shared/peers/bench_mujoco_pick.mjs with
// shared/peers/pick_controller.mjs inlined. Usage: node bench/peers/mujoco-pick.mjs <N envs> <timed episodes> [warm-up episodes]
// Prints one JSON line: env_steps_per_s (control env-steps per wall second), success_rate (3-D box-goal
// distance < 5 cm at the last step), success_rate_in_air (goals above the table), lifted_rate, ...
import loadMujoco from 'mujoco-js';
import fs from 'node:fs';

const TABLE_C = [1.3, 0.75], BOX_Z = 0.425, Z_GRASP = 0.405, GRASP_OFFSET = 0.02;
const EP_LEN = 50, SUBSTEPS = 20, FINGER_OPEN = 0.04, FINGER_CLOSED = 0;
const args = process.argv.slice(2);
const [N, E, W = 1] = args.map(Number);
if (args.length < 2 || args.length > 3 || !(Number.isInteger(N) && N > 0 && Number.isInteger(E) && E > 0 && Number.isInteger(W) && W >= 0)) {
  console.error('usage: mujoco-pick.mjs <N> <episodes> [warmup]'); process.exit(2);
}

/** 32-bit LCG (Numerical Recipes constants), as the peer controller. */
function makeRng(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}
/** Box within +-0.10 m of the table centre; goal xy within +-0.15 m, on the table or (half the episodes) up to 0.45 m above it. */
function sampleEpisode(rng, ep) {
  ep.box[0] = TABLE_C[0] + (rng() * 2 - 1) * 0.10;
  ep.box[1] = TABLE_C[1] + (rng() * 2 - 1) * 0.10;
  ep.goal[0] = TABLE_C[0] + (rng() * 2 - 1) * 0.15;
  ep.goal[1] = TABLE_C[1] + (rng() * 2 - 1) * 0.15;
  ep.goal[2] = BOX_Z + (rng() < 0.5 ? rng() * 0.45 : 0);
}
/** Scripted pick: above the box at z 0.50 open (k < 8), down to Z_GRASP open (k < 14), close (k < 18), carry the
 *  box centre to the goal. Writes the mocap target into out, returns the finger command (m per finger). */
function pickCommand(k, grip, box, ep, out) {
  let tx, ty, tz, finger;
  if (k < 8) { tx = box[0]; ty = box[1]; tz = 0.50; finger = FINGER_OPEN; }
  else if (k < 14) { tx = box[0]; ty = box[1]; tz = Z_GRASP; finger = FINGER_OPEN; }
  else if (k < 18) { tx = box[0]; ty = box[1]; tz = Z_GRASP; finger = FINGER_CLOSED; }
  else { tx = ep.goal[0]; ty = ep.goal[1]; tz = ep.goal[2] - GRASP_OFFSET; finger = FINGER_CLOSED; }
  const clip = (x) => Math.max(-1, Math.min(1, x));
  out[0] = grip[0] + 0.05 * clip(10 * (tx - grip[0]));
  out[1] = grip[1] + 0.05 * clip(10 * (ty - grip[1]));
  out[2] = grip[2] + 0.05 * clip(10 * (tz - grip[2]));
  return finger;
}

const mj = await loadMujoco();
mj.FS.mkdir('/w');
mj.FS.writeFile('/w/scene.xml', fs.readFileSync(new URL('./pick_mocap.xml', import.meta.url), 'utf8'));
const m = mj.MjModel.loadFromXML('/w/scene.xml');
const jq = (name) => m.jnt_qposadr[mj.mj_name2id(m, 3, name)];
const objQ = jq('object_free'), gripQ = jq('gripper_free');
const mocapId = m.body_mocapid[mj.mj_name2id(m, 1, 'mocap')];
const datas = [], rngs = [], eps = [];
for (let e = 0; e < N; e++) { datas.push(new mj.MjData(m)); rngs.push(makeRng(1234 + e)); eps.push({ box: [0, 0], goal: [0, 0, 0], lifted: false }); }
const grip = [0, 0, 0], box = [0, 0, 0], cmd = [0, 0, 0];
let episodes = 0, successes = 0, inAir = 0, inAirOk = 0, lifted = 0, nan = 0;

function resetEnv(e) {
  const d = datas[e], ep = eps[e];
  mj.mj_resetData(m, d);
  sampleEpisode(rngs[e], ep);
  const q = d.qpos;
  q[objQ] = ep.box[0]; q[objQ + 1] = ep.box[1]; q[objQ + 2] = BOX_Z; q[objQ + 3] = 1; q[objQ + 4] = 0; q[objQ + 5] = 0; q[objQ + 6] = 0;
  ep.lifted = false;
  mj.mj_forward(m, d);
}

function controlStep(e, k) {
  const d = datas[e], ep = eps[e];
  if (k === 0) resetEnv(e);
  let q = d.qpos;
  grip[0] = q[gripQ]; grip[1] = q[gripQ + 1]; grip[2] = q[gripQ + 2];
  box[0] = q[objQ]; box[1] = q[objQ + 1]; box[2] = q[objQ + 2];
  const finger = pickCommand(k, grip, box, ep, cmd);
  const mp = d.mocap_pos;
  mp[3 * mocapId] = cmd[0]; mp[3 * mocapId + 1] = cmd[1]; mp[3 * mocapId + 2] = cmd[2];
  const ctrl = d.ctrl; ctrl[0] = finger; ctrl[1] = finger;
  for (let s = 0; s < SUBSTEPS; s++) mj.mj_step(m, d);
  q = d.qpos;
  if (q[objQ + 2] > BOX_Z + 0.05) ep.lifted = true;
  if (k === EP_LEN - 1) {
    const dist = Math.hypot(ep.goal[0] - q[objQ], ep.goal[1] - q[objQ + 1], ep.goal[2] - q[objQ + 2]);
    if (!Number.isFinite(dist)) nan++;
    const ok = dist < 0.05;
    episodes++; if (ok) successes++;
    if (ep.goal[2] > BOX_Z + 0.05) { inAir++; if (ok) inAirOk++; }
    if (ep.lifted) lifted++;
  }
}

function run(numEpisodes) {
  for (let ep = 0; ep < numEpisodes; ep++) for (let k = 0; k < EP_LEN; k++) for (let e = 0; e < N; e++) controlStep(e, k);
}
run(W);
episodes = successes = inAir = inAirOk = lifted = nan = 0;
const t0 = performance.now();
run(E);
const wall = (performance.now() - t0) / 1000;
const steps = N * E * EP_LEN;
console.log(JSON.stringify({
  engine: `mujoco-js (MuJoCo ${mj.mj_versionString()} WASM)`, scene: 'pick_mocap', N, episodes, dt: 0.002, substeps: SUBSTEPS,
  wall_s: +wall.toFixed(3), env_steps_per_s: Math.round(steps / wall), success_rate: +(successes / episodes).toFixed(3),
  success_rate_in_air: +(inAirOk / Math.max(1, inAir)).toFixed(3), episodes_in_air: inAir,
  lifted_rate: +(lifted / episodes).toFixed(3), nan_episodes: nan,
}));
