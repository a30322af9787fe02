/**
 * Default subgoal specs of the built-in tasks, as plain data (the lead may move each next to its task in
 * tasks/). Thresholds follow Fetch: success is ‖object − goal‖ < 0.05 m, the cube is 5 cm wide.
 */
import type { SubgoalSpec } from './spec.ts';

/** Reach (points 'grip', 'goal'): one stage, the grip site within 5 cm of the goal (Fetch's success). */
export const REACH_SUBGOALS: SubgoalSpec = {
  description: 'Move the grip site to the goal.',
  stages: [
    {
      name: 'grip-at-goal',
      predicate: { kind: 'distance', a: 'grip', b: 'goal', below: 0.05 },
      progress: { a: 'grip', b: 'goal', sigma: 0.1 },
    },
  ],
};

/**
 * Push (points 'grip', 'object', 'goal'): first bring the grip site within 3 cm of a point 6 cm behind the
 * cube's centre on the far side from the goal (horizontal direction, at the cube's centre height, where the
 * closed fingers, which reach 5 cm up from the grip site, meet the cube's face), then the cube within 5 cm of
 * the goal (Fetch's success).
 */
export const PUSH_SUBGOALS: SubgoalSpec = {
  description: 'Get behind the cube as seen from the goal, then push the cube to the goal.',
  points: { behindObject: { from: 'object', awayFrom: 'goal', offset: 0.06, xy: true } },
  stages: [
    {
      name: 'behind-object',
      predicate: { kind: 'distance', a: 'grip', b: 'behindObject', below: 0.03 },
      progress: { a: 'grip', b: 'behindObject', sigma: 0.1 },
    },
    {
      name: 'object-at-goal',
      predicate: { kind: 'distance', a: 'object', b: 'goal', below: 0.05 },
      progress: { a: 'object', b: 'goal', sigma: 0.1 },
    },
  ],
};

/** Default spec by task name, and the point names each expects in batch.points (in order). */
export const DEFAULT_SUBGOALS: Readonly<Record<string, { pointNames: readonly string[]; spec: SubgoalSpec }>> = {
  Reach: { pointNames: ['grip', 'goal'], spec: REACH_SUBGOALS },
  Push: { pointNames: ['grip', 'object', 'goal'], spec: PUSH_SUBGOALS },
};
