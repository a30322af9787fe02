/**
 * Default subgoal specs of the built-in tasks: each task declares its own (tasks/*.ts, `subgoals`);
 * this module indexes them by task name. Thresholds follow Fetch: success is ‖object − goal‖ < 0.05 m.
 */
import type { SubgoalSpec } from './spec.ts';
import { PUSH_SUBGOALS, push } from '../../tasks/push.ts';
import { REACH_SUBGOALS, reach } from '../../tasks/reach.ts';

export { PUSH_SUBGOALS, REACH_SUBGOALS };

/** Default spec by task name, and the point names each expects in batch.points (in order). */
export const DEFAULT_SUBGOALS: Readonly<Record<string, { pointNames: readonly string[]; spec: SubgoalSpec }>> = {
  Reach: { pointNames: reach.pointNames, spec: REACH_SUBGOALS },
  Push: { pointNames: push.pointNames, spec: PUSH_SUBGOALS },
};
