/**
 * The goal-conditioned policy's input, row by row: an env's observation, its desired goal and, with `stageInObs`,
 * the one-hot [K + 1] of its latched subgoal stage (Words as Beacons: the subgoal the agent is on, in its input).
 */

/** The sizes a policy input is built from: the env's widths and its subgoal stage count K. */
export interface PolicyInputEnv {
  obsDim: number;
  goalDim: number;
  /** The subgoal stages' names (K of them); needed only with stageInObs. */
  stageNames?: readonly string[];
}

/** Width of the policy input of an env: obs + goal, plus K + 1 with stageInObs. */
export function policyInputDim(env: PolicyInputEnv, stageInObs = false): number {
  return env.obsDim + env.goalDim + (stageInObs ? stageOneHotWidth(env) : 0);
}

/** K + 1: the stage one-hot's width (stages 0 … K, K when every stage holds). */
export function stageOneHotWidth(env: PolicyInputEnv): number {
  if (!env.stageNames) throw new Error('policy input: the stage one-hot needs the env\'s stage names');
  return env.stageNames.length + 1;
}

/**
 * Writes rows [n, D] = obs ⊕ goal (⊕ one-hot(stage[i]) [K + 1] when `stage` is given; a stage outside [0, K] is
 * clamped) into out, D = obsDim + goalDim (+ K + 1).
 */
export function writePolicyInput(obs: Float32Array, goal: Float32Array, n: number, obsDim: number, goalDim: number, out: Float32Array, stage?: { values: Int32Array; numStages: number }): void {
  const W = stage ? stage.numStages + 1 : 0, D = obsDim + goalDim + W;
  for (let i = 0; i < n; i++) {
    out.set(obs.subarray(i * obsDim, (i + 1) * obsDim), i * D);
    out.set(goal.subarray(i * goalDim, (i + 1) * goalDim), i * D + obsDim);
    if (!stage) continue;
    const at = i * D + obsDim + goalDim, k = Math.min(Math.max(stage.values[i], 0), stage.numStages);
    out.fill(0, at, at + W);
    out[at + k] = 1;
  }
}
