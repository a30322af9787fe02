// Flat parameter layout: offsets and sizes worked by hand for two shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paramLayout } from '../../engine/nn/param-layout.ts';

test('3-5-2 layout, by hand', () => {
  const l = paramLayout(3, 2, [5]);
  // policy.0: W [5,3] = 15 at 0, b [5] at 15; policy.1: W [2,5] = 10 at 20, b [2] at 30;
  // logStd [2] at 32; value.0: W [5,3] at 34, b at 49; value.1: W [1,5] at 54, b [1] at 59; total 60.
  assert.deepEqual(
    l.entries.map((e) => [e.name, e.offset, e.shape]),
    [
      ['policy.0.weight', 0, [5, 3]],
      ['policy.0.bias', 15, [5]],
      ['policy.1.weight', 20, [2, 5]],
      ['policy.1.bias', 30, [2]],
      ['logStd', 32, [2]],
      ['value.0.weight', 34, [5, 3]],
      ['value.0.bias', 49, [5]],
      ['value.1.weight', 54, [1, 5]],
      ['value.1.bias', 59, [1]],
    ],
  );
  assert.equal(l.size, 60);
  assert.equal(l.logStdOffset, 32);
  assert.deepEqual(
    l.policyLayers.map((x) => [x.inDim, x.outDim, x.weightOffset, x.biasOffset, x.tanh]),
    [
      [3, 5, 0, 15, true],
      [5, 2, 20, 30, false],
    ],
  );
  assert.deepEqual(
    l.valueLayers.map((x) => [x.inDim, x.outDim, x.weightOffset, x.biasOffset, x.tanh]),
    [
      [3, 5, 34, 49, true],
      [5, 1, 54, 59, false],
    ],
  );
});

test('25-64-64-4 layout, by hand', () => {
  const l = paramLayout(25, 4, [64, 64]);
  // Policy: 64·25 + 64 = 1664; + 64·64 + 64 = 4160 → 5824; + 4·64 + 4 = 260 → 6084; logStd 4 → 6088.
  // Value: 1664 → 7752; 4160 → 11912; 1·64 + 1 = 65 → 11977.
  assert.equal(l.logStdOffset, 6084);
  assert.equal(l.valueLayers[0].weightOffset, 6088);
  assert.equal(l.valueLayers[2].biasOffset, 11976);
  assert.equal(l.size, 11977);
  // Entries are contiguous: each starts where the previous ends.
  for (let i = 1; i < l.entries.length; i++) {
    const prev = l.entries[i - 1];
    assert.equal(l.entries[i].offset, prev.offset + prev.shape.reduce((a, b) => a * b, 1));
  }
});

test('no hidden layers gives a linear policy; bad sizes are clear errors', () => {
  const l = paramLayout(3, 2, []);
  // policy.0 W [2,3] + b [2] = 8; logStd 2 → 10; value.0 W [1,3] + b [1] = 4 → 14.
  assert.equal(l.size, 14);
  assert.equal(l.policyLayers[0].tanh, false);
  assert.throws(() => paramLayout(0, 2, [4]), /obsDim must be a positive integer/);
  assert.throws(() => paramLayout(3, 2.5, [4]), /actDim must be a positive integer/);
  assert.throws(() => paramLayout(3, 2, [4, -1]), /hidden\[1\] must be a positive integer/);
});
