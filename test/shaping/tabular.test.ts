// A tabular MDP solved by value iteration on the rewards the shaper writes: PBRS leaves the optimal policy
// unchanged (and Q shifts by exactly −Φ(s), Ng, Harada & Russell 1999), while the stage-completion bonus,
// which is not potential-based, changes it.
//
// The MDP: a chain x ∈ {0, …, 10}, start x = 5, actions left/right (clamped at the ends). Reaching x = 10
// terminates with reward 0; every other step gives −1 (Fetch's sparse reward). The subgoal spec has a
// misleading first stage, "visit the waypoint at x = 2", then "reach the goal": the task never needs the
// waypoint. States are (x, k) with k the latched stage, as the shaper keeps it; every reward comes from the
// shaper's step on a batch whose points are (x, 0, 0).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBatch, type Batch } from '../../engine/batch.ts';
import { ShapingKernel, ShapingReference, type Shaper, type ShapingMode, type SubgoalSpec } from '../../engine/shaping/index.ts';
import { assertClose } from './helpers.ts';

const GOAL = 10, WAYPOINT = 2, START = 5, GAMMA = 0.95, BONUS = 4;
const ACTIONS = [-1, +1] as const; // 0 = left, 1 = right
const POINTS = ['agent', 'waypoint', 'goal'];
const SPEC: SubgoalSpec = {
  stages: [
    { name: 'visit-waypoint', predicate: { kind: 'distance', a: 'agent', b: 'waypoint', below: 0.5 }, progress: { a: 'agent', b: 'waypoint', sigma: 3 } },
    { name: 'at-goal', predicate: { kind: 'distance', a: 'agent', b: 'goal', below: 0.5 }, progress: { a: 'agent', b: 'goal', sigma: 3 } },
  ],
};

interface Edge { next: string; reward: number; terminal: boolean }
interface Mdp { phi: Map<string, number>; edges: Map<string, Edge[]>; start: string }

const key = (x: number, k: number) => `${x},${k}`;

/** Enumerates the reachable (x, k) states from the start, asking the shaper for every transition's reward. */
function buildMdp(b: Batch, s: Shaper): Mdp {
  const place = (j: number, x: number) => b.points.set([x, 0, 0, WAYPOINT, 0, 0, GOAL, 0, 0], j * 9);
  place(0, START);
  place(1, START);
  s.reset();
  const start = key(START, b.stage[0]);
  const phi = new Map([[start, b.potential[0]]]);
  const edges = new Map<string, Edge[]>();
  const queue = [start];
  while (queue.length) {
    const st = queue.shift()!;
    const [x, k] = st.split(',').map(Number);
    // Env j takes action j from (x, k): the env's readback, then the shaper's step.
    for (let j = 0; j < 2; j++) {
      const nx = Math.min(GOAL, Math.max(0, x + ACTIONS[j]));
      place(j, nx);
      b.stage[j] = k;
      b.maxStage[j] = k;
      b.potential[j] = phi.get(st)!;
      b.reward[j] = nx === GOAL ? 0 : -1;
      b.terminated[j] = nx === GOAL ? 1 : 0;
      b.truncated[j] = 0;
    }
    s.step();
    const out: Edge[] = [];
    for (let j = 0; j < 2; j++) {
      const next = key(Math.min(GOAL, Math.max(0, x + ACTIONS[j])), b.stage[j]);
      const terminal = b.terminated[j] === 1;
      out.push({ next, reward: b.shapedReward[j], terminal });
      if (!terminal && !phi.has(next)) {
        phi.set(next, b.potential[j]);
        queue.push(next);
      }
    }
    edges.set(st, out);
  }
  return { phi, edges, start };
}

/** Value iteration to convergence; returns Q per state. */
function solve(m: Mdp): Map<string, number[]> {
  const v = new Map([...m.edges.keys()].map((s) => [s, 0]));
  const q = new Map<string, number[]>();
  for (let it = 0; it < 5000; it++) {
    let delta = 0;
    for (const [s, es] of m.edges) {
      const qs = es.map((e) => e.reward + (e.terminal ? 0 : GAMMA * v.get(e.next)!));
      q.set(s, qs);
      const best = Math.max(...qs);
      delta = Math.max(delta, Math.abs(best - v.get(s)!));
      v.set(s, best);
    }
    if (delta < 1e-12) return q;
  }
  throw new Error('value iteration did not converge');
}

/** Greedy action per state, requiring a margin so that ties cannot flip it. */
function policy(q: Map<string, number[]>): Map<string, number> {
  const p = new Map<string, number>();
  for (const [s, [l, r]] of q) {
    assert.ok(Math.abs(l - r) > 1e-3, `near tie at ${s}: ${l} vs ${r}`);
    p.set(s, r > l ? 1 : 0);
  }
  return p;
}

for (const impl of ['kernel', 'reference'] as const) {
  test(`chain MDP (${impl}): PBRS keeps the optimal policy, the stage bonus changes it`, async () => {
    const solved = new Map<ShapingMode, { m: Mdp; q: Map<string, number[]>; p: Map<string, number> }>();
    for (const mode of ['sparse', 'pbrs', 'bonus'] as const) {
      const b = createBatch({ numEnvs: 2, obsDim: 1, actDim: 1, goalDim: 1, numPoints: 3 });
      const config = { mode, gamma: GAMMA, weight: 1, bonus: BONUS };
      const s = impl === 'kernel' ? await ShapingKernel.create(b, SPEC, POINTS, config) : ShapingReference.create(b, SPEC, POINTS, config);
      const m = buildMdp(b, s);
      const q = solve(m);
      solved.set(mode, { m, q, p: policy(q) });
    }
    const sparse = solved.get('sparse')!, pbrs = solved.get('pbrs')!, bonus = solved.get('bonus')!;
    // Sparse: always right. From x = 5: four −1 steps, then the goal: V = −(1 + γ + γ² + γ³) = −3.709875.
    for (const [s, a] of sparse.p) assert.equal(a, 1, `sparse: right at ${s}`);
    assertClose(Math.max(...sparse.q.get(sparse.m.start)!), -3.709875, 1e-6, 'V_sparse(start)');
    // PBRS: the same reachable states, the same policy, and Q′(s, a) = Q(s, a) − Φ(s) for every state and action.
    // Φ is not trivial here: it pulls towards the waypoint (e.g. Φ(5, 0) = 1 − tanh(1) = 0.238406).
    assert.deepEqual(pbrs.p, sparse.p);
    assertClose(pbrs.m.phi.get(pbrs.m.start)!, 0.238406, 1e-6, 'Φ(start)');
    for (const [s, qs] of pbrs.q) {
      const qSparse = sparse.q.get(s);
      assert.ok(qSparse, `state ${s} reachable under sparse too`);
      for (const a of [0, 1]) assertClose(qs[a], qSparse[a] - pbrs.m.phi.get(s)!, 1e-5, `Q_pbrs(${s}, ${a}) = Q(${s}, ${a}) − Φ`);
    }
    // Bonus (4 per completed stage): the detour through the waypoint wins from the start. Left to x = 2 (three
    // steps, the third earns the bonus), then eight steps right to the goal (the last earns the second bonus):
    // V = −Σ_{t<10} γ^t + 4γ² + 4γ^10 = −8.025261 + 3.61 + 2.394947 = −2.020314 > −3.709875.
    assert.equal(bonus.p.get(bonus.m.start), 0, 'bonus: left at the start');
    assertClose(Math.max(...bonus.q.get(bonus.m.start)!), -2.020314, 1e-5, 'V_bonus(start)');
    assert.notDeepEqual(bonus.p, sparse.p);
  });
}
