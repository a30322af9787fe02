/** The goal-conditioned policy's input: an env's observation followed by its desired goal, row by row. */

/** Width of the policy input of an env: its observation followed by its desired goal. */
export function policyInputDim(env: { obsDim: number; goalDim: number }): number {
  return env.obsDim + env.goalDim;
}

/** Writes rows [n, obsDim + goalDim] = obs ⊕ goal into out (the goal-conditioned policy input). */
export function writePolicyInput(obs: Float32Array, goal: Float32Array, n: number, obsDim: number, goalDim: number, out: Float32Array): void {
  const D = obsDim + goalDim;
  for (let i = 0; i < n; i++) {
    out.set(obs.subarray(i * obsDim, (i + 1) * obsDim), i * D);
    out.set(goal.subarray(i * goalDim, (i + 1) * goalDim), i * D + obsDim);
  }
}
