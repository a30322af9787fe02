/** Goal progress (engine/train/goal-progress.ts) on hand-made goals: per-object ratios, the 5 cm floor, clamping, and episodes scored at done only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GoalProgressMeter, objectGoalProgress } from '../../engine/train/goal-progress.ts';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('object progress: (d0 − dT) / max(d0, 5 cm), clamped to [−1, 1]', () => {
  close(objectGoalProgress(0.2, 0.05), 0.75);
  close(objectGoalProgress(0.2, 0.2), 0);
  close(objectGoalProgress(0.2, 0.3), -0.5);
  close(objectGoalProgress(0.2, 0.9), -1);
  // A start 2 cm from the goal is divided by 5 cm: ending 1 cm away is 0.2, not 0.5.
  close(objectGoalProgress(0.02, 0.01), 0.2);
});

test('the meter scores only the episodes that end, per object, with the next episode starting from its first goals', () => {
  // Two envs, two objects (goalDim 6). Desired goals at the origin; achieved goals are the object positions.
  const m = new GoalProgressMeter(2, 6);
  const zeros = new Float32Array(12);
  m.start(Float32Array.from([0.2, 0, 0, 0, 0.4, 0, /* env 1 */ 0, 0, 0.1, 0, 0, 0.3]), zeros);
  const step = (done: number[], finalAchieved: number[], achieved: number[]) => m.record({
    terminated: new Uint8Array(2), truncated: Uint8Array.from(done),
    finalAchievedGoal: Float32Array.from(finalAchieved), finalDesiredGoal: zeros, achievedGoal: Float32Array.from(achieved), desiredGoal: zeros,
  });
  // Env 0 ends: object 0 from 0.2 to 0.05 (0.75), object 1 from 0.4 to 0.4 (0) → 0.375. Env 1 runs on.
  step([1, 0], [0.05, 0, 0, 0, 0.4, 0, 9, 9, 9, 9, 9, 9], [0, 0.1, 0, 0, 0, 0.1, 0, 0, 0.1, 0, 0, 0.3]);
  assert.equal(m.episodes, 1);
  close(m.mean, 0.375);
  // Both end: env 0 from its new start (0.1, 0.1) to (0, 0.2) → (1 − 1) / 2 = 0; env 1 from (0.1, 0.3) to (0.2, 0) → (−1 + 1) / 2 = 0.
  step([1, 1], [0, 0, 0, 0, 0.2, 0, 0, 0.2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(m.episodes, 3);
  close(m.mean, 0.375 / 3);
  assert.throws(() => new GoalProgressMeter(2, 4), /goalDim must be a positive multiple of 3, got 4/);
});
