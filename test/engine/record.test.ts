import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { makeEnv } from '../../index.ts';
import { counterUniform } from '../../engine/rng.ts';
import { decodeRecording, encodeRecording, episodeViews, stepFields, stepWidth } from '../../engine/record/format.ts';
import { EpisodeRecorder } from '../../engine/record/recorder.ts';
import { replayRecording } from '../../engine/record/replay.ts';
import { tempDirs } from '../helpers/tmp.ts';
import { ReplayPlayer } from '../../engine/view/replay.ts';
import { getTask } from '../../tasks/registry.ts';
import type { SubgoalSpec } from '../../engine/shaping/spec.ts';

const tmp = tempDirs('cairn-rec-');

/** Records `steps` steps of seeded random actions on a task and returns the file's bytes. */
async function record(task: string, numEnvs: number, steps: number, maxEpisodes: number, numWorkers = 1, subgoals?: unknown): Promise<Uint8Array> {
  const env = await makeEnv(task, { numEnvs, seed: 5, numWorkers, shaping: { mode: 'pbrs' }, subgoals });
  const rec = new EpisodeRecorder(env, { maxEpisodes, seed: 5 });
  env.reset();
  rec.start();
  const act = new Float32Array(numEnvs * env.actDim);
  for (let t = 0; t < steps; t++) {
    for (let k = 0; k < act.length; k++) act[k] = 2 * counterUniform(3, k, t, 0) - 1;
    env.step(act);
    rec.afterStep();
  }
  const bytes = await rec.encode();
  await env.close();
  return bytes;
}

function cairn(...args: string[]) {
  const res = spawnSync(process.execPath, ['bin/cairn.mjs', ...args], { encoding: 'utf8' });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('recording', () => {
  it('keeps whole episodes with per-step rewards, stages and terms that match the env, and replays them bit for bit', async () => {
    const bytes = await record('PickAndPlace', 4, 120, 6);
    const rec = await decodeRecording(bytes);
    const m = rec.manifest;
    assert.equal(m.task, 'PickAndPlace');
    assert.equal(m.episodes.length, 6, 'six of the eight finished episodes are kept');
    assert.deepEqual(m.episodes.map((e) => e.steps), [50, 50, 50, 50, 50, 50]);
    assert.deepEqual(m.episodes.map((e) => e.env), [0, 1, 2, 3, 0, 1]);
    const f = stepFields(m), S = stepWidth(m), W = m.stateLayout.rowWidth;
    for (let e = 0; e < 6; e++) {
      const { start, steps, entry } = episodeViews(rec, e);
      assert.equal(start[m.stateLayout.fields.episodeStep[0]], 0, 'an episode starts at step 0');
      let ret = 0;
      for (let t = 0; t < entry.steps; t++) {
        const row = steps.subarray(t * S + f.row, t * S + f.row + W);
        assert.equal(row[m.stateLayout.fields.episodeStep[0]], t + 1, `row of step ${t} is the state it reached`);
        assert.ok(steps[t * S + f.reward] === 0 || steps[t * S + f.reward] === -1);
        assert.equal(steps[t * S + f.terms], steps[t * S + f.reward], 'term 0 is the sparse reward');
        assert.equal(steps[t * S + f.stage], row[m.stateLayout.fields.stage[0]]);
        ret += steps[t * S + f.reward];
      }
      assert.equal(entry.return, ret);
    }
    const r = await replayRecording(rec);
    assert.equal(r.episodes, 6);
    assert.equal(r.bitIdentical, 6, `errors ${r.errors}`);
    assert.equal(r.successAgrees, 6);
  });

  it('records from worker threads, and replays with as many workers bit for bit', async () => {
    const rec = await decodeRecording(await record('Push', 4, 60, 4, 2));
    assert.equal(rec.manifest.numWorkers, 2);
    const r = await replayRecording(rec);
    assert.equal(r.bitIdentical, 4, `errors ${r.errors}`);
  });

  it('keeps a custom subgoal spec: the replay player draws its stage targets, a bad one is refused by name', async () => {
    const spec = structuredClone(getTask('Push').subgoals) as SubgoalSpec;
    const behind = spec.points!.behindObject as { offset: number };
    behind.offset = 0.12;
    spec.stages[0].name = 'far-behind';
    const rec = await decodeRecording(await record('Push', 2, 50, 2, 1, spec));
    assert.deepEqual(rec.manifest.stageNames, ['far-behind', 'object-at-goal']);
    assert.deepEqual(rec.manifest.subgoals, spec);
    const player = new ReplayPlayer(rec);
    assert.equal(player.info().stageName, 'far-behind');
    // Frame 0 is in stage 0: the marker is the custom behind point, 12 cm from the cube (horizontally).
    const b = player.batch, obj = 3;
    assert.ok(Math.abs(Math.hypot(player.stageTargets[0] - b.points[obj], player.stageTargets[1] - b.points[obj + 1]) - 0.12) < 1e-5);
    assert.equal((await replayRecording(rec)).bitIdentical, 2);
    const bad = structuredClone(rec.manifest) as typeof rec.manifest & { subgoals: SubgoalSpec };
    bad.subgoals.stages[0].progress.b = 'nowhere';
    assert.throws(() => new ReplayPlayer({ manifest: bad, payload: rec.payload }), /replay: the recording's subgoal spec is invalid: .*nowhere/);
  });

  it('refuses a truncated, corrupt, foreign or inconsistent file with the reason', async () => {
    const bytes = await record('Push', 2, 50, 2);
    const flip = bytes.slice();
    flip[flip.length - 7] ^= 0x40;
    await assert.rejects(decodeRecording(flip), /recording: corrupt payload \(SHA-256 [0-9a-f]{64} differs/);
    await assert.rejects(decodeRecording(bytes.subarray(0, bytes.length - 100)), /recording: truncated \(payload has \d+ of \d+ bytes\)/);
    await assert.rejects(decodeRecording(bytes.subarray(0, 40)), /recording: truncated \(the manifest needs/);
    await assert.rejects(decodeRecording(new TextEncoder().encode('{"not": "a recording"}')), /not a cairn recording/);
    const extra = new Uint8Array(bytes.length + 4);
    extra.set(bytes);
    await assert.rejects(decodeRecording(extra), /4 bytes after the payload/);
    // A manifest edited by hand (the payload and its checksum intact): the episodes must tile the payload.
    const { manifest, payload } = await decodeRecording(bytes);
    const edit = async (change: (m: typeof manifest) => void) => {
      const m = structuredClone(manifest);
      change(m);
      return decodeRecording(await encodeRecording(m, payload));
    };
    await assert.rejects(edit((m) => { m.episodes[0].steps = 49; }), /recording: episode 1 is at float \d+ with 50 steps, expected float \d+/);
    await assert.rejects(edit((m) => { m.episodes[1].env = 9; }), /recording: episode 1 ran in env 9, outside \[0, 2\)/);
    await assert.rejects(edit((m) => { m.episodes.pop(); }), /recording: the episodes cover \d+ floats, the payload holds \d+/);
    await assert.rejects(edit((m) => { m.stateLayout.fields.bodyPose = [0, 9999]; }), /state field bodyPose at \[0,9999\] does not fit/);
  });

  it('cairn rollout --record writes a file that cairn replay reproduces; bad files and flags are clear errors', () => {
    const dir = tmp();
    const file = path.join(dir, 'push.rec');
    const r = cairn('rollout', '--task', 'push', '--envs', '8', '--steps', '60', '--policy', 'scripted', '--record', file, '--record-episodes', '5');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /recorded 5 episode\(s\) into/);
    const p = cairn('replay', file, '--json');
    assert.equal(p.code, 0, p.stderr);
    const out = JSON.parse(p.stdout.trim());
    assert.deepEqual([out.episodes, out.bitIdentical, out.worstError, out.successAgrees], [5, 5, 0, 5]);
    const bad = path.join(dir, 'bad.rec');
    writeFileSync(bad, readFileSync(file).subarray(0, 300));
    const q = cairn('replay', bad);
    assert.equal(q.code, 2);
    assert.match(q.stderr, /recording: truncated/);
    assert.match(cairn('replay', path.join(dir, 'none.rec')).stderr, /cannot read .*none.rec: no such file/);
    assert.match(cairn('rollout', '--steps', '5', '--record', dir).stderr, /--record .* is a directory/);
    assert.match(cairn('rollout', '--steps', '5', '--record', path.join(dir, 'no', 'x.rec')).stderr, /the directory .* does not exist/);
    assert.match(cairn('rollout', '--steps', '5', '--record-episodes', '3').stderr, /--record-episodes goes with --record FILE/);
  });
});
