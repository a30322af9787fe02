import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Archive, type Visit } from '../../engine/explore/archive.ts';
import { decodeArchive, encodeArchive } from '../../engine/explore/archive-file.ts';
import { cellKey, validateCellSpec } from '../../engine/explore/cells.ts';
import { Explorer } from '../../engine/explore/explore.ts';
import { readArchive } from '../../engine/explore/run.ts';
import { StartCurriculum } from '../../engine/explore/start-curriculum.ts';
import { makeEnv } from '../../index.ts';
import { counterUniform } from '../../engine/rng.ts';
import { mulberry32 } from '../../engine/rng.ts';
import { tempDirs } from '../helpers/tmp.ts';

const tmp = tempDirs('cairn-gx-');

function cairn(...args: string[]) {
  const res = spawnSync(process.execPath, ['bin/cairn.mjs', ...args], { encoding: 'utf8' });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** A visit with random contents for the archive unit tests. */
function visit(r: () => number, key: string, steps: number, score: number, W = 5, A = 2): Visit {
  return { key, stage: 0, row: Float32Array.from({ length: W }, r), steps, score, success: false, start: Float32Array.from({ length: W }, r), actions: Float32Array.from({ length: steps * A }, r) };
}

describe('Go-Explore archive', () => {
  it('keeps the best state per cell (fewest steps, then highest score) and never loses a cell', () => {
    const r = mulberry32(3);
    const a = new Archive({ maxEpisodeSteps: 50 });
    const best = new Map<string, Visit>();
    let cells = 0;
    for (let k = 0; k < 2000; k++) {
      const key = `c${Math.floor(r() * 60)}`, v = visit(r, key, 1 + Math.floor(r() * 40), -Math.floor(r() * 40));
      const b = best.get(key);
      const res = a.visit(v, k);
      if (!b) assert.equal(res, 'new');
      else if (v.steps < b.steps || (v.steps === b.steps && v.score > b.score)) assert.equal(res, 'better');
      else assert.equal(res, 'seen');
      if (!b || res === 'better') best.set(key, v);
      assert.ok(a.numCells >= cells, 'the archive shrank');
      cells = a.numCells;
    }
    assert.equal(a.numCells, best.size);
    for (const [key, v] of best) {
      const c = a.cells.get(key)!;
      assert.equal(c.steps, v.steps);
      assert.equal(c.score, v.score);
      assert.deepEqual(c.row, v.row);
      assert.deepEqual(c.actions, v.actions);
    }
  });

  it('selects cells in proportion to their weights, favouring rarely chosen ones, and never a cell with no step left', () => {
    const r = mulberry32(5);
    const a = new Archive({ maxEpisodeSteps: 50 });
    a.visit(visit(r, 'old', 3, 0), 0);
    a.visit(visit(r, 'new', 3, 0), 0);
    a.visit(visit(r, 'end', 49, 0), 0);
    a.cells.get('old')!.chosen = 99;
    a.cells.get('old')!.seen = 99;
    a.cells.get('old')!.chosenSinceNew = 99;
    const counts = new Map<string, number>();
    for (let k = 0; k < 400; k++) {
      a.prepareSelection();
      const c = a.select(1, k, 0, 0)!;
      counts.set(c.key, (counts.get(c.key) ?? 0) + 1);
    }
    assert.equal(counts.get('end') ?? 0, 0);
    assert.ok((counts.get('new') ?? 0) > 2 * (counts.get('old') ?? 0), JSON.stringify([...counts]));
  });

  it('keeps one successful trajectory per episode, the shortest, up to its limit', () => {
    const a = new Archive({ maxEpisodeSteps: 50, maxSuccesses: 3 });
    const t = (episode: string, steps: number) => ({ start: new Float32Array(2), actions: new Float32Array(steps), steps, episode });
    a.addSuccess(t('a', 10)); a.addSuccess(t('a', 12)); a.addSuccess(t('a', 8)); a.addSuccess(t('b', 20)); a.addSuccess(t('c', 30)); a.addSuccess(t('d', 5)); a.addSuccess(t('e', 40));
    assert.deepEqual(a.successes.map((s) => [s.episode, s.steps]).sort(), [['a', 8], ['b', 20], ['d', 5]]);
  });

  it('round-trips through its file and refuses a corrupt one', async () => {
    const env = await makeEnv('Push', { numEnvs: 16, seed: 2 });
    const ex = await Explorer.start({ task: 'Push', numEnvs: 16, numWorkers: 1, seed: 2, cellSpec: validateCellSpec({ gripCell: 0.2 }), exploreSteps: 10, repeatProb: 0.9, freshProb: 0.1 }, null);
    for (let t = 0; t < 120; t++) ex.step();
    const info = { task: 'Push', cellSpec: ex.settings.cellSpec, numEnvs: 16, seed: 2, exploreSteps: 10, repeatProb: 0.9, freshProb: 0.1, envSteps: ex.envSteps, wallSeconds: 1, history: [[ex.envSteps, ex.archive.numCells, ex.archive.numSuccessCells]] as [number, number, number][] };
    const bytes = await encodeArchive(ex.archive, info, ex.env.stateLayout, 4);
    const back = await decodeArchive(bytes, env.stateLayout);
    assert.equal(back.archive.numCells, ex.archive.numCells);
    for (const c of ex.archive.list) {
      const d = back.archive.cells.get(c.key)!;
      assert.deepEqual([d.steps, d.score, d.chosen, d.seen, d.chosenSinceNew], [c.steps, c.score, c.chosen, c.seen, c.chosenSinceNew]);
      assert.deepEqual(d.row, c.row);
      assert.deepEqual(d.start, c.start);
      assert.deepEqual(d.actions, c.actions);
    }
    const bad = bytes.slice();
    bad[bad.length - 3] ^= 1;
    await assert.rejects(decodeArchive(bad), /archive: corrupt payload/);
    const reach = await makeEnv('Reach', { numEnvs: 1 });
    await assert.rejects(decodeArchive(bytes, reach.stateLayout), /archive: rows are of task Push, the env runs Reach/);
    await ex.close();
    await env.close();
    await reach.close();
  });
});

describe('Go-Explore exploration', () => {
  it('finds more cells than random actions from resets with the same budget, and its stored states reach their cells', async () => {
    const settings = { task: 'Push', numEnvs: 32, numWorkers: 1, seed: 4, cellSpec: validateCellSpec({ gripCell: 0.2 }), exploreSteps: 15, repeatProb: 0.9, freshProb: 0.1 };
    const ex = await Explorer.start(settings, null);
    for (let t = 0; t < 300; t++) ex.step();
    // Random actions from resets, same env steps, cells counted the same way.
    const env = await makeEnv('Push', { numEnvs: 32, seed: 4 });
    env.reset();
    const seen = new Set<string>();
    const b = env.batch, L = env.stateLayout, W = L.rowWidth;
    const act = new Float32Array(32 * 4);
    const add = (done: boolean, g: number, row: Float32Array) => seen.add(cellKey(settings.cellSpec, done ? b.finalAchievedGoal : b.achievedGoal, g * 3, done ? b.finalDesiredGoal : b.desiredGoal, g * 3, 3, row, L.fields.bodyPose[0], row[L.fields.stage[0]], 0));
    let rows = env.getState().data;
    for (let g = 0; g < 32; g++) add(false, g, rows.subarray(g * W, g * W + W));
    for (let t = 0; t < 300; t++) {
      for (let k = 0; k < act.length; k++) act[k] = 2 * counterUniform(9, k, t, 0) - 1;
      env.step(act);
      rows = env.getState().data;
      for (let g = 0; g < 32; g++) add(b.done[g] === 1, g, b.done[g] ? b.finalState.subarray(g * W, g * W + W) : rows.subarray(g * W, g * W + W));
    }
    assert.equal(ex.envSteps, 32 * 300);
    assert.ok(ex.archive.numCells > 1.3 * seen.size, `Go-Explore ${ex.archive.numCells} cells, random ${seen.size}`);
    // A cell's start row and actions lead back to (near) its stored state: replay a few in the fresh env.
    const cells = ex.archive.list.filter((c) => c.steps >= 5 && c.steps < 40).slice(0, 8);
    const starts = new Float32Array(cells.length * W);
    cells.forEach((c, i) => starts.set(c.start, i * W));
    env.setState(starts, cells.map((_, i) => i));
    const longest = Math.max(...cells.map((c) => c.steps));
    const at = new Map<number, Float32Array>();
    for (let t = 0; t < longest; t++) {
      act.fill(0);
      cells.forEach((c, i) => { if (t < c.steps) act.set(c.actions.subarray(4 * t, 4 * t + 4), 4 * i); });
      env.step(act);
      cells.forEach((c, i) => { if (t === c.steps - 1) at.set(i, env.getState([i]).data); });
    }
    const [po] = L.fields.bodyPose;
    let close = 0;
    cells.forEach((c, i) => { if (Math.hypot(at.get(i)![po] - c.row[po], at.get(i)![po + 1] - c.row[po + 1], at.get(i)![po + 2] - c.row[po + 2]) < 0.01) close++; });
    assert.ok(close >= cells.length - 1, `${close} of ${cells.length} replayed paths end at their cell's grip position`);
    await ex.close();
    await env.close();
  });

  it('starts episodes from demonstrations, keeps the env\'s episode counter, and moves the start back on success', async () => {
    const env = await makeEnv('Push', { numEnvs: 8, seed: 1 });
    env.reset();
    // A hand-made demonstration: five rows of a state that is already a success.
    const W = env.stateLayout.rowWidth, L = env.stateLayout.fields;
    const row = env.getState([0]).data;
    row.set(row.subarray(L.bodyPose[0] + 7, L.bodyPose[0] + 10), L.desiredGoal[0]);
    const rows = new Float32Array(5 * W);
    for (let k = 0; k < 5; k++) { rows.set(row, k * W); rows[k * W + L.episodeStep[0]] = 10 + k; }
    const cur = new StartCurriculum([{ rows, length: 5 }], { demoShare: 1, threshold: 0.5, step: 2, window: 0, minEpisodes: 4, slack: 30 }, 8, 7);
    const zero = new Float32Array(8 * 4);
    for (let t = 0; t < 50; t++) { env.step(zero); cur.afterStep(env); }
    for (let g = 0; g < 8; g++) {
      // Row 3 (one step before the demo's success) at step 50 − (1 + 30) = 19 of its episode, later than its own 13.
      assert.equal(env.batch.episodeStep[g], 19, 'started one step before the demo\'s success, with 31 steps left');
      assert.equal(env.batch.episodeIndex[g], 2, 'the env keeps its own episode counter (its second episode)');
    }
    for (let t = 19; t < 50; t++) { env.step(zero); cur.afterStep(env); }
    cur.endIteration();
    assert.deepEqual(cur.last, { demoEpisodes: 8, demoSuccessRate: 1 });
    assert.equal(cur.back, 3);
    await env.close();
  });
});

describe('cairn explore and train --starts', () => {
  it('explores into a directory, refuses to overwrite it, resumes after a kill, and trains from its demonstrations', async () => {
    const dir = tmp();
    const out = path.join(dir, 'gx');
    // A run killed mid-way (SIGKILL while it saves every 0.2 s) leaves a whole archive or none.
    const child = spawn(process.execPath, ['bin/cairn.mjs', 'explore', '--task', 'push', '--envs', '64', '--steps', '5e6', '--out', out, '--save-seconds', '0.2'], { stdio: 'ignore' });
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000) {
      await new Promise((r) => setTimeout(r, 200));
      if (readdirSync(dir).includes('gx') && readdirSync(out).some((f) => f.startsWith('archive.bin')) && Date.now() - t0 > 4000) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const killed = await readArchive(out);
    assert.ok(killed && killed.archive.numCells > 0, 'the archive written before the kill loads');
    const again = cairn('explore', '--task', 'push', '--envs', '64', '--steps', '4e4', '--out', out);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /holds an exploration archive; pass --resume/);
    const r = cairn('explore', '--task', 'push', '--envs', '64', '--steps', String(killed!.info.envSteps + 64 * 400), '--out', out, '--resume', '--json');
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.ok(res.cells >= killed!.archive.numCells, 'resume keeps every cell');
    assert.ok(res.envSteps >= killed!.info.envSteps + 64 * 400);
    assert.ok(!readdirSync(out).some((f) => f.includes('.tmp-')), 'no temporary files left');
    assert.match(readFileSync(path.join(out, 'cells.svg'), 'utf8'), /<svg/);
    const mismatch = cairn('explore', '--task', 'push', '--envs', '32', '--steps', '1e5', '--out', out, '--resume');
    assert.match(mismatch.stderr, /resume: the archive .* was explored with/);
    // Robustify from whatever it found (a short run: the curriculum and an ordinary checkpoint, not a learned policy).
    const found = (await readArchive(out))!;
    if (found.archive.successes.length) {
      const t = cairn('train', '--task', 'push', '--shaping', 'sparse', '--starts', out, '--envs', '16', '--steps', '3200', '--eval-episodes', '8', '--hidden', '16,16', '--out', path.join(dir, 'run'), '--json');
      assert.equal(t.code, 0, t.stderr);
      assert.match(t.stderr, /demonstration\(s\) from .* reproduce a success that holds/);
      const m = readFileSync(path.join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(m.every((x) => x.starts && x.starts.back >= 1));
      assert.equal(cairn('eval', path.join(dir, 'run'), '--episodes', '4').code, 0);
    }
    writeFileSync(path.join(dir, 'empty.txt'), '');
    assert.match(cairn('train', '--task', 'push', '--starts', dir, '--steps', '100', '--out', path.join(dir, 'r2')).stderr, /--starts: .* holds no exploration archive/);
    assert.match(cairn('train', '--task', 'reach', '--starts', out, '--steps', '100', '--out', path.join(dir, 'r3')).stderr, /--starts: the archive in .* explored Push, this run trains Reach/);
    assert.match(cairn('explore', '--steps', '10').stderr, /--out DIR is required/);
    assert.match(cairn('explore', '--out', '/proc/x').stderr, /--out \/proc\/x is on the pseudo-filesystem \/proc/);
    assert.match(cairn('explore', '--out', path.join(dir, 'empty.txt', 'x')).stderr, /is a file, not a directory/);
    assert.match(cairn('explore', '--out', path.join(dir, 'x'), '--repeat', '2').stderr, /explore: repeatProb must be a probability in \[0, 1\], got 2/);
    assert.match(cairn('explore', '--out', path.join(dir, 'x'), '--goal-cell', '0').stderr, /cells: goalCell must be a size in \[0.005, 1\] m, got 0/);
  });
});
