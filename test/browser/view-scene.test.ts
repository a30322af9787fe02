/**
 * The view's scene drawn from the batch's state block (engine/view/scene.ts), in headless Chromium: for
 * PickAndPlace and Stack under the scripted controller the page runs without console errors, draws a non-blank
 * scene in the same number of draw calls at N = 16 and 64, and every object instance, finger and goal marker
 * sits where batch.bodyPose, fingerPos and desiredGoal put it (checked against matrices worked here from the
 * quaternions, not with the view's code), with the stage markers on each spec's targets (PickAndPlace's shifted
 * 'aboveObject' point, Stack's four stages). Every registered task is listed in the selector and runs scripted;
 * Slide's puck is drawn as a cylinder on its long table. Screenshots of one env mid-grasp go to test-results/,
 * and to docs/pick-and-place.png and docs/stack.png with UPDATE_DOCS=1:
 *
 *   UPDATE_DOCS=1 node scripts/run-tests.mjs browser/view-scene
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ViewInstances } from '../../engine/view/main.ts';
import { REPO_ROOT, RESULTS, viewSession } from './view-harness.ts';
import { decodePng, pixelStats } from './view-png.ts';

const session = viewSession({ webgpu: false });
const open = (query: string) => session.open(query);

const state = (page: Page) => page.evaluate(() => window.cairnView!.state());
const instances = (page: Page) => page.evaluate(() => window.cairnView!.instances());
const markers = (page: Page) => page.evaluate(() => window.cairnView!.markers());

async function waitState(page: Page, what: string, pred: string, timeoutMs = 45000): Promise<void> {
  try {
    await page.waitForFunction(`(() => { const s = window.cairnView.state(); return ${pred}; })()`, undefined, { timeout: timeoutMs, polling: 100 });
  } catch (e) {
    throw new Error(`timed out waiting for ${what} (${pred}); last state ${JSON.stringify(await state(page))}`, { cause: e });
  }
}

/** Pauses the page and lets it draw a few frames, so that the instances show the batch as it now is. */
async function pause(page: Page): Promise<void> {
  if (!(await state(page)).paused) await page.click('#pause');
  await page.waitForTimeout(250);
}

/** Resumes a paused page. */
async function resume(page: Page): Promise<void> {
  if ((await state(page)).paused) await page.click('#pause');
}

/** Rotates v by the unit quaternion q = (x, y, z, w): v' = v + 2w (u × v) + 2 u × (u × v), u = (x, y, z). */
function rotate(q: number[], v: number[]): number[] {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  const [x, y, z, w] = q.map((c) => c / n);
  const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const u = [x, y, z], t = cross(u, v), tt = cross(u, t);
  return [0, 1, 2].map((k) => v[k] + 2 * w * t[k] + 2 * tt[k]);
}

/** World position of env i's local point p in the view's layout. */
function world(s: ViewInstances, i: number, p: number[]): number[] {
  return [s.origins[3 * i] + p[0] - s.tableCenter[0], s.origins[3 * i + 1] + p[1] - s.tableCenter[1], p[2]];
}

function near(got: number[], want: number[], tol: number, what: string): void {
  for (let k = 0; k < want.length; k++) assert.ok(Math.abs(got[k] - want[k]) < tol, `${what}: ${got.map((v) => v.toFixed(5))} vs ${want.map((v) => v.toFixed(5))}`);
}

/**
 * Checks every object instance, finger and goal marker of one snapshot against the batch's views in it:
 * object k of env i has columns R e_c × 2 h_c s (R from its quaternion, h its half extents, s its size scale)
 * and translation at its position; the fingers sit at y = ±(0.012 + q) from the grip site, 2.5 cm above it
 * (FINGER_HALF[1] + FINGER_GAP0 = 0.005 + 0.007); goal part j at desiredGoal[i, 3j..]. Returns the object positions.
 */
function checkInstances(s: ViewInstances): number[] {
  const N = s.numEnvs, B = s.numBodies, K = s.sceneObjects.length, M = s.goalDim / 3, S = s.numSceneParams;
  assert.equal(B, 1 + K);
  assert.equal(s.objects.length, K);
  const positions: number[] = [];
  for (let i = 0; i < N; i++) {
    const grip = s.bodyPose.slice(i * B * 7, i * B * 7 + 3);
    for (let k = 0; k < K; k++) {
      const o = (i * B + 1 + k) * 7, pose = s.bodyPose.slice(o, o + 7);
      const scale = S > 5 + 3 * k + 1 ? s.sceneParams[i * S + 5 + 3 * k + 1] : 1;
      const m = s.objects[k].matrices.slice(16 * i, 16 * i + 16);
      for (let c = 0; c < 3; c++) {
        const e = [0, 0, 0];
        e[c] = 2 * s.sceneObjects[k].halfExtents[c] * scale;
        near(m.slice(4 * c, 4 * c + 3), rotate(pose.slice(3, 7), e), 1e-5, `env ${i} object ${k} column ${c}`);
      }
      near(m.slice(12, 15), world(s, i, pose.slice(0, 3)), 1e-4, `env ${i} object ${k} position`);
      positions.push(...pose.slice(0, 3));
    }
    for (let f = 0; f < 2; f++) {
      const sign = f === 0 ? 1 : -1, q = s.fingerPos[2 * i + f];
      const m = s.fingers.slice(32 * i + 16 * f, 32 * i + 16 * f + 16);
      near(m.slice(12, 15), world(s, i, [grip[0], grip[1] + sign * (0.012 + q), grip[2] + 0.025]), 1e-4, `env ${i} finger ${f} (q ${q})`);
    }
    for (let j = 0; j < M; j++) {
      const m = s.goals.slice(16 * (i * M + j), 16 * (i * M + j) + 16);
      near(m.slice(12, 15), world(s, i, s.desiredGoal.slice(i * s.goalDim + 3 * j, i * s.goalDim + 3 * j + 3)), 1e-4, `env ${i} goal ${j}`);
    }
  }
  return positions;
}

/** The stage target of env i as each task's spec defines it (tasks/pick-and-place.ts, tasks/stack.ts), from batch.points. */
function expectedTarget(task: string, points: number[], numPoints: number, i: number, stage: number): number[] {
  const p = (n: number) => points.slice(3 * (i * numPoints + n), 3 * (i * numPoints + n) + 3);
  if (task === 'PickAndPlace') {
    // Points grip, object, goal, carryHeight; stages above-object (object + 4 cm up), grasp (object), at-goal-height (carryHeight), goal.
    const [object, goal, carry] = [p(1), p(2), p(3)];
    return [[object[0], object[1], object[2] + 0.04], object, carry, goal][Math.min(stage, 3)];
  }
  // Stack: points grip, cubeA, cubeB, goalA, goalB; stages pick-a (cubeA), place-a (goalA), release-a (cubeA + 6 cm up),
  // pick-b (cubeB), place-b (goalB).
  const a = p(1);
  return [a, p(3), [a[0], a[1], a[2] + 0.06], p(2), p(4)][Math.min(stage, 4)];
}

for (const task of ['PickAndPlace', 'Stack']) {
  test(`${task}, scripted: no console errors, a non-blank scene, draw calls equal at N = 16 and 64, instances follow the state block`, async () => {
    const drawCalls: number[] = [];
    for (const n of [16, 64]) {
      const { page, errors } = await open(`?task=${task.toLowerCase()}&envs=${n}&policy=scripted&spf=2`);
      try {
        await waitState(page, 'the grasps to begin', 's.steps >= 24');
        const s = await state(page);
        assert.equal(s.task, task);
        assert.equal(s.error, null);
        drawCalls.push(s.drawCalls);
        if (n === 16) {
          const png = await page.screenshot({ path: join(RESULTS, `view-${task.toLowerCase()}-16.png`) });
          const box = (await page.locator('#scene').boundingBox())!;
          const st = pixelStats(decodePng(png), Math.round(box.x), Math.round(box.y), Math.round(box.x + box.width), Math.round(box.y + box.height));
          assert.ok(st.variance > 100, `scene luminance variance ${st.variance.toFixed(1)} (blank canvas?)`);
          assert.ok(st.colors > 100, `only ${st.colors} distinct colours in the scene`);

          // Three live snapshots a few steps apart, each drawn exactly from the batch.
          const seenStages = new Set<number>();
          for (let k = 0; k < 3; k++) {
            await pause(page);
            const inst = await instances(page);
            checkInstances(inst);
            const m = await markers(page);
            const P = m.pointNames.length;
            for (let i = 0; i < n; i++) {
              seenStages.add(m.stage[i]);
              near(m.positions.slice(3 * i, 3 * i + 3), expectedTarget(task, m.points, P, i, m.stage[i]), 1e-4, `env ${i} stage ${m.stage[i]} marker`);
            }
            // Objects keep their own colours, distinct from each other; a goal not reached has its object's colour.
            const K = inst.objects.length, M = inst.goalDim / 3;
            for (let a = 0; a < K; a++) {
              for (let b = a + 1; b < K; b++) assert.notDeepEqual(inst.objects[a].colors.slice(0, 3), inst.objects[b].colors.slice(0, 3), `objects ${a} and ${b} share a colour`);
            }
            for (let i = 0; i < n; i++) {
              for (let j = 0; j < M; j++) {
                const d = i * inst.goalDim + 3 * j;
                const dist = Math.hypot(...[0, 1, 2].map((c) => inst.achievedGoal[d + c] - inst.desiredGoal[d + c]));
                const want = dist < inst.distanceThreshold ? [0x47, 0xd1, 0x6c].map((v) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4)) : inst.objects[j].colors.slice(3 * i, 3 * i + 3);
                near(inst.goalColors.slice(3 * (i * M + j), 3 * (i * M + j) + 3), want, 1e-3, `env ${i} goal ${j} colour (${dist.toFixed(3)} m from its object)`);
              }
            }
            await resume(page);
            const at = (await state(page)).steps;
            await waitState(page, 'a few more steps', `s.steps >= ${at + 6}`);
          }
          // The objects move between steps 24 and 36 of the scripted episodes (grasps and carries), drawn at those very
          // steps: the live snapshots above fall wherever the page's frames put them (the scripted cubes rest from ~36 on).
          await page.evaluate(() => window.cairnView!.restart());
          await page.evaluate(() => window.cairnView!.advance(24, 1, 1));
          const from = checkInstances(await instances(page));
          await page.evaluate(() => window.cairnView!.advance(12, 1, 1));
          const to = checkInstances(await instances(page));
          let moved = 0;
          for (let o = 0; o < from.length; o += 3) {
            if (Math.hypot(from[o] - to[o], from[o + 1] - to[o + 1], from[o + 2] - to[o + 2]) > 0.01) moved++;
          }
          assert.ok(moved >= 4, `only ${moved} of ${from.length / 3} objects moved from step 24 to step 36`);
          assert.ok(seenStages.size >= 2, `stages seen ${[...seenStages]}`);
        }
        assert.deepEqual(errors, []);
      } finally {
        await page.close();
      }
    }
    // Boxes (tables, palms, fingers, cubes), goals, stage markers, blob shadows, grid; the same at both N.
    assert.equal(drawCalls[0], drawCalls[1], `draw calls at N = 16 and 64: ${drawCalls}`);
    assert.equal(drawCalls[0], 5, `draw calls ${drawCalls[0]}`);
  });
}

test('the task selector lists every registered task and each runs scripted; Slide draws a puck on its long table', async () => {
  const { page, errors } = await open('?task=reach&envs=4&policy=scripted&spf=2');
  try {
    assert.deepEqual(await page.locator('#task option').allTextContents(), ['Reach', 'Push', 'PickAndPlace', 'Slide', 'Stack']);
    for (const task of ['Push', 'PickAndPlace', 'Slide', 'Stack', 'Reach']) {
      await page.selectOption('#task', task);
      await waitState(page, `${task} running`, `s.task === '${task}' && s.ready && s.steps >= 6`, 20000);
      await pause(page);
      const inst = await instances(page);
      checkInstances(inst);
      const s = await state(page);
      assert.equal(s.policy, 'scripted');
      assert.equal(s.drawCalls, task === 'Slide' ? 6 : 5, `${task}: ${s.drawCalls} draw calls`);
      if (task === 'Slide') {
        assert.deepEqual(inst.objects.map((o) => o.shape), ['cylinder']);
        // SLIDE_TABLE: 1.25 × 0.9 m, centred at (1.525, 0.75), top at 0.40 m.
        near(inst.tables.slice(0, 3), [1.25, 0, 0], 1e-6, 'Slide table x extent');
        near(inst.tables.slice(12, 15), world(inst, 0, [1.525, 0.75, 0.2]), 1e-5, 'Slide table centre');
        // Cells are wide enough for the long table: neighbours 1.65 m apart in x.
        assert.ok(Math.abs(inst.origins[3] - inst.origins[0] - 1.65) < 1e-6, `cell width ${inst.origins[3] - inst.origins[0]}`);
      }
      await resume(page);
    }
    await page.screenshot({ path: join(RESULTS, 'view-reach-4.png') });
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

/**
 * Steps a paused page from a reset to `step`, focused on env `focus`, and saves a screenshot; with UPDATE_DOCS=1
 * also to docs/<name>.png.
 */
async function shootGrasp(task: string, focus: number, step: number, name: string, check: (s: ViewInstances) => void): Promise<void> {
  const { page, errors } = await open(`?task=${task.toLowerCase()}&envs=16&policy=scripted&focus=${focus}`);
  try {
    await pause(page);
    await page.click('#reset');
    for (let k = 1; k <= step; k++) {
      await page.click('#step');
      await waitState(page, `step ${k}`, `s.steps === ${k}`, 5000);
    }
    // The notes over the scene (where a policy would run) are dismissed for a clear picture.
    for (const b of await page.locator('.note .dismiss').all()) await b.click();
    await page.waitForTimeout(1500); // the camera glides to the env
    const inst = await instances(page);
    checkInstances(inst);
    check(inst);
    await page.screenshot({ path: join(RESULTS, `${name}.png`) });
    if (process.env.UPDATE_DOCS === '1') copyFileSync(join(RESULTS, `${name}.png`), join(REPO_ROOT, 'docs', `${name}.png`));
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
}

test('screenshots of one env mid-grasp: PickAndPlace (docs/pick-and-place.png) and Stack (docs/stack.png)', async () => {
  // Seed 0, env 2: the scripted grasp has closed the fingers on the cube and carries it up toward a goal in the air.
  await shootGrasp('PickAndPlace', 2, 22, 'pick-and-place', (s) => {
    const B = s.numBodies, cube = s.bodyPose.slice((2 * B + 1) * 7, (2 * B + 1) * 7 + 3);
    assert.ok(s.stage[2] >= 2, `env 2 stage ${s.stage[2]}`);
    assert.ok(cube[2] > 0.5, `env 2 cube at z ${cube[2]}: not lifted`);
    assert.ok(s.fingerPos[4] + s.fingerPos[5] < 0.045, `env 2 fingers open ${s.fingerPos.slice(4, 6)}`);
    assert.ok(s.desiredGoal[8] > 0.5, `env 2 goal at z ${s.desiredGoal[8]}: not in the air`);
  });
  // Seed 0, env 0: cube A rests on its target, cube B is carried above it.
  await shootGrasp('Stack', 0, 72, 'stack', (s) => {
    const b = s.bodyPose.slice(14, 17);
    assert.ok(s.stage[0] >= 3, `env 0 stage ${s.stage[0]}`);
    assert.ok(b[2] > 0.47, `cube B at z ${b[2]}: not lifted`);
  });
});
