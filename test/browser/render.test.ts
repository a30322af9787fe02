// cairn render: a GIF of a run's policy from the view in headless Chromium; it has the frames asked for, and they move.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { GifReader } from 'omggif';
import { main } from '../../engine/cli/main.ts';
import { trainRun } from '../../engine/train/run.ts';
import { tempDirs } from '../helpers/tmp.ts';

const tmp = tempDirs('cairn-render-');

describe('cairn render', () => {
  it('writes a GIF of the policy: 1 episode every 10 steps is 5 frames, drawn (many colours) and different from each other', { timeout: 180_000 }, async () => {
    const dir = tmp();
    await trainRun({
      task: 'Reach', shaping: 'dense', shapingWeight: 1, numEnvs: 16, numWorkers: 1, totalSteps: 2e4, seed: 1, outDir: dir, backend: 'wasm', threads: 1, hidden: [16, 16],
      ppo: {}, evalEpisodes: 16, resume: false, checkpointSeconds: 1e9,
    }, () => {}, () => {});
    const gif = path.join(dir, 'policy.gif');
    const [e0, l0] = [console.error, console.log];
    const said: string[] = [];
    console.error = console.log = (...a: unknown[]) => void said.push(a.join(' '));
    let code: number;
    try {
      code = await main(['render', dir, '--episodes', '1', '--every', '10', '--width', '320', '--out', gif]);
    } finally {
      [console.error, console.log] = [e0, l0];
    }
    assert.equal(code, 0, said.join('\n'));
    const g = new GifReader(new Uint8Array(await fs.readFile(gif)));
    assert.equal(g.numFrames(), 5);
    assert.equal(g.width, 320);
    assert.equal(g.height, 180);
    const frames: Uint8Array[] = [];
    const px = new Uint8Array(g.width * g.height * 4);
    for (let k = 0; k < g.numFrames(); k++) {
      g.decodeAndBlitFrameRGBA(k, px);
      frames.push(px.slice());
      const colours = new Set<number>();
      for (let i = 0; i < px.length; i += 4) colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
      assert.ok(colours.size > 20, `frame ${k} is drawn (${colours.size} colours)`);
    }
    for (let k = 1; k < frames.length; k++) {
      let changed = 0;
      for (let i = 0; i < px.length; i += 4) if (frames[k][i] !== frames[k - 1][i] || frames[k][i + 1] !== frames[k - 1][i + 1]) changed++;
      assert.ok(changed > 50, `frame ${k} differs from frame ${k - 1} (${changed} pixels)`);
    }
    await assert.rejects(main(['render', path.join(dir, 'nope')]).then((c) => { if (c !== 0) throw new Error(`exit ${c}`); }), /exit 2/);
  });
});
