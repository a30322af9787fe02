/**
 * The view's replay mode (`index.html?replay=URL`, engine/view/replay.ts and replay-page.ts) in headless Chromium: a
 * PickAndPlace recording made here with the scripted controller (4 envs, 100 steps: 8 episodes of 50 steps) is
 * served by Vite from test/browser/.tmp/ and played without physics. The HUD shows the episode count and the step;
 * every frame draws exactly the recorded row (objects, grip and goal markers against the file decoded here in Node);
 * scrubbing the timeline changes the picture and, in a successful episode, brings the cube from outside the success
 * radius to inside it; the step buttons and the arrow keys move one frame, Space plays and pauses. A corrupt file
 * shows the decoder's 'corrupt payload' message in the page and a missing one a load error, with no uncaught
 * exception. A screenshot goes to test-results/replay.png, and to docs/replay.png with UPDATE_DOCS=1:
 *
 *   UPDATE_DOCS=1 node scripts/run-tests.mjs browser/view-replay
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { makeEnv } from '../../engine/env.ts';
import { decodeRecording, episodeViews, stepFields, stepWidth, type Recording } from '../../engine/record/format.ts';
import { EpisodeRecorder } from '../../engine/record/recorder.ts';
import { rollout, scriptedSource } from '../../engine/rollout.ts';
import type { ReplayState } from '../../engine/view/replay-page.ts';
import { collectErrors, REPO_ROOT, RESULTS, viewSession } from './view-harness.ts';
import { decodePng } from './view-png.ts';

const session = viewSession({ webgpu: false });
/** Served by Vite at /test/browser/.tmp/ (git-ignored). */
const TMP = join(REPO_ROOT, 'test', 'browser', '.tmp');
const URL_OK = '/test/browser/.tmp/replay-pick.rec';
const URL_CORRUPT = '/test/browser/.tmp/replay-corrupt.rec';
const URL_MISSING = '/test/browser/.tmp/no-such-recording.rec';
let rec: Recording;

before(async () => {
  const env = await makeEnv('PickAndPlace', { numEnvs: 4, seed: 3 });
  const recorder = new EpisodeRecorder(env, { maxEpisodes: 8, seed: 3 });
  await rollout(env, scriptedSource(env), 100, undefined, recorder);
  const bytes = await recorder.encode();
  await env.close();
  rec = await decodeRecording(bytes);
  mkdirSync(TMP, { recursive: true });
  writeFileSync(join(TMP, 'replay-pick.rec'), bytes);
  // One bit flipped in the last float of the payload: the manifest's SHA-256 no longer matches.
  const bad = bytes.slice();
  bad[bad.length - 3] ^= 0x10;
  writeFileSync(join(TMP, 'replay-corrupt.rec'), bad);
});

/** Opens the page at ?replay=url and waits until it has drawn a frame or shows an error. */
async function openReplay(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await session.browser.context.newPage();
  const errors = collectErrors(page);
  await page.goto(`${session.baseUrl}?replay=${encodeURIComponent(url)}`);
  await page.waitForFunction(() => {
    const s = window.__cairnReplay?.state();
    return s !== undefined && (s.ready || s.error !== null);
  }, undefined, { timeout: 30000, polling: 100 });
  return { page, errors };
}

const state = (page: Page): Promise<ReplayState> => page.evaluate(() => window.__cairnReplay!.state());
const drawn = (page: Page) => page.evaluate(() => window.__cairnReplay!.drawn());

/** The recorded row of frame t of episode e (frame 0: the start row; t > 0: the row step t − 1 reached). */
function rowOf(e: number, t: number): Float32Array {
  const m = rec.manifest, W = m.stateLayout.rowWidth, { start, steps } = episodeViews(rec, e);
  if (t === 0) return start;
  const at = (t - 1) * stepWidth(m) + stepFields(m).row;
  return steps.subarray(at, at + W);
}

function field(row: Float32Array, name: 'bodyPose' | 'desiredGoal'): number[] {
  const [o, w] = rec.manifest.stateLayout.fields[name];
  return Array.from(row.subarray(o, o + w));
}

function near(got: number[], want: number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let k = 0; k < want.length; k++) assert.ok(Math.abs(got[k] - want[k]) < tol, `${what}: ${got.map((v) => v.toFixed(5))} vs ${want.map((v) => v.toFixed(5))}`);
}

/** Checks that the page shows frame t of episode e and draws its row: the cube at bodyPose[1], the grip at bodyPose[0], the goal at desiredGoal. */
async function checkFrame(page: Page, e: number, t: number): Promise<number[]> {
  const s = await state(page);
  assert.deepEqual([s.episode, s.frame], [e, t], `page shows episode ${s.episode} frame ${s.frame}`);
  assert.equal(await page.textContent('#replay-hud-step'), `${t} / ${rec.manifest.episodes[e].steps}`);
  assert.equal(await page.inputValue('#replay-timeline'), String(t));
  const row = rowOf(e, t), K = rec.manifest.stageNames.length, k = row[rec.manifest.stateLayout.fields.stage[0]];
  assert.equal(await page.textContent('#replay-hud-stage'), `${k} ${k < K ? rec.manifest.stageNames[k] : 'done'}`);
  const d = await drawn(page), pose = field(row, 'bodyPose'), goal = field(row, 'desiredGoal');
  assert.deepEqual(d.bodyPose, pose, `episode ${e} frame ${t}: the batch holds the recorded bodyPose`);
  near(d.objects, pose.slice(7, 10), 1e-5, `episode ${e} frame ${t} cube drawn`);
  near(d.grip, pose.slice(0, 3), 1e-5, `episode ${e} frame ${t} grip drawn`);
  near(d.goals, goal, 1e-5, `episode ${e} frame ${t} goal drawn`);
  return d.objects;
}

/** Screenshot of the scene canvas after the camera has settled, decoded. */
async function shoot(page: Page, name: string) {
  await page.waitForTimeout(1200);
  const box = (await page.locator('#scene').boundingBox())!;
  const png = await page.screenshot({ path: join(RESULTS, `${name}.png`), clip: box });
  return decodePng(png);
}

test('replays a PickAndPlace recording: HUD, timeline, frames drawn from the recorded rows, step buttons and keys', async () => {
  const m = rec.manifest;
  assert.equal(m.episodes.length, 8);
  const e = m.episodes.findLastIndex((x) => x.success);
  assert.ok(e >= 1, `no successful episode after the first among ${JSON.stringify(m.episodes)}`);
  const T = m.episodes[e].steps;
  const { page, errors } = await openReplay(URL_OK);
  try {
    const s0 = await state(page);
    assert.equal(s0.error, null);
    assert.equal(s0.task, 'PickAndPlace');
    assert.deepEqual([s0.episode, s0.numEpisodes, s0.frame, s0.numFrames, s0.playing], [0, 8, 0, m.episodes[0].steps + 1, false]);
    assert.equal(await page.textContent('#replay-hud-episode'), `1 of 8 (env ${m.episodes[0].env})`);
    assert.equal(await page.locator('#replay-episode option').count(), 8);
    assert.match(await page.textContent('#focus-info') ?? '', /episode 1 of 8 {3}step 0 \/ 50/);
    // The live view's controls are hidden.
    assert.equal(await page.isVisible('#task'), false);
    assert.equal(await page.isVisible('#chart-success'), false);
    await checkFrame(page, 0, 0);

    // A successful episode: at frame 0 the cube is away from its goal, at the last frame within the success radius.
    await page.selectOption('#replay-episode', String(e));
    const first = await checkFrame(page, e, 0);
    const goal = field(rowOf(e, 0), 'desiredGoal');
    const img0 = await shoot(page, 'replay-frame0');
    await page.fill('#replay-timeline', String(T));
    const last = await checkFrame(page, e, T);
    const img1 = await shoot(page, 'replay-last');
    const dist = (p: number[]) => Math.hypot(p[0] - goal[0], p[1] - goal[1], p[2] - goal[2]);
    assert.ok(dist(first) > 0.05, `cube ${dist(first).toFixed(3)} m from its goal at frame 0`);
    assert.ok(dist(last) < 0.05 && dist(last) < dist(first), `cube ${dist(last).toFixed(3)} m from its goal at frame ${T} (${dist(first).toFixed(3)} m at 0)`);
    const sLast = await state(page);
    assert.deepEqual([sLast.success, sLast.reward], [true, 0]);
    assert.equal(await page.textContent('#replay-hud-success'), 'yes');
    // Scrubbing changed the picture: a share of the canvas's pixels differ between frame 0 and the last frame.
    assert.equal(img0.data.length, img1.data.length);
    let differ = 0;
    for (let k = 0; k < img0.data.length; k += img0.channels) {
      if (Math.abs(img0.data[k] - img1.data[k]) + Math.abs(img0.data[k + 1] - img1.data[k + 1]) + Math.abs(img0.data[k + 2] - img1.data[k + 2]) > 24) differ++;
    }
    assert.ok(differ > 0.005 * img0.width * img0.height, `only ${differ} of ${img0.width * img0.height} pixels differ between frame 0 and frame ${T}`);

    // A frame in the middle, then the step buttons and keys: one frame each, clamped at the ends.
    await page.fill('#replay-timeline', '20');
    await checkFrame(page, e, 20);
    await page.click('#replay-back');
    await checkFrame(page, e, 19);
    await page.click('#replay-forward');
    await page.click('#replay-forward');
    await checkFrame(page, e, 21);
    await page.focus('#scene');
    await page.keyboard.press('ArrowRight');
    await checkFrame(page, e, 22);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await checkFrame(page, e, 20);
    await page.fill('#replay-timeline', String(T));
    await page.focus('#scene');
    await page.keyboard.press('ArrowRight');
    await checkFrame(page, e, T);

    // Space plays (from the start once at the end) and pauses; playing walks the rows in order.
    await page.keyboard.press(' ');
    assert.equal((await state(page)).playing, true);
    await page.waitForFunction(() => window.__cairnReplay!.state().frame! >= 5, undefined, { timeout: 10000, polling: 50 });
    await page.keyboard.press(' ');
    const paused = await state(page);
    assert.equal(paused.playing, false);
    assert.equal(await page.textContent('#replay-play'), 'play');
    await page.waitForTimeout(300);
    await checkFrame(page, e, paused.frame!);
    await page.click('#replay-play');
    await page.waitForFunction(() => !window.__cairnReplay!.state().playing, undefined, { timeout: 10000, polling: 50 });
    await checkFrame(page, e, T);

    // The picture for the README: the successful episode with the highest goal, the cube just lifted toward it.
    const goalZ = (k: number) => field(rowOf(k, 0), 'desiredGoal')[2];
    const shown = m.episodes.map((_, k) => k).filter((k) => m.episodes[k].success).reduce((a, k) => (goalZ(k) > goalZ(a) ? k : a));
    const cubeZ = (t: number) => field(rowOf(shown, t), 'bodyPose')[9];
    const lifted = Array.from({ length: m.episodes[shown].steps + 1 }, (_, t) => t).find((t) => cubeZ(t) > cubeZ(0) + 0.05) ?? 0;
    await page.selectOption('#replay-episode', String(shown));
    await page.fill('#replay-timeline', String(lifted));
    await checkFrame(page, shown, lifted);
    await page.waitForTimeout(1200);
    await page.screenshot({ path: join(RESULTS, 'replay.png') });
    if (process.env.UPDATE_DOCS === '1') copyFileSync(join(RESULTS, 'replay.png'), join(REPO_ROOT, 'docs', 'replay.png'));
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('a corrupt recording shows the decoder\'s message in the page, a missing one a load error', async () => {
  const bad = await openReplay(URL_CORRUPT);
  try {
    const s = await state(bad.page);
    assert.match(s.error ?? '', /recording: corrupt payload \(SHA-256 [0-9a-f]{64} differs from the manifest's/);
    assert.equal(s.ready, false);
    assert.match(await bad.page.textContent('#notes') ?? '', /corrupt payload/);
    assert.match(await bad.page.textContent('#replay-info') ?? '', /corrupt payload/);
    assert.deepEqual(bad.errors, []);
  } finally {
    await bad.page.close();
  }
  const none = await openReplay(URL_MISSING);
  try {
    const s = await state(none.page);
    assert.match(s.error ?? '', /replay: cannot load http:\/\/127\.0\.0\.1:\d+\/test\/browser\/\.tmp\/no-such-recording\.rec: HTTP 404/);
    assert.match(await none.page.textContent('#notes') ?? '', /cannot load .*no-such-recording\.rec: HTTP 404/);
    // Only the browser's own note of the failed request, no uncaught exception.
    assert.deepEqual(none.errors.filter((x) => !/Failed to load resource.*404/.test(x)), []);
  } finally {
    await none.page.close();
  }
});
