// Philox4x32-10 in TypeScript against Random123's known answers, and the WGSL version against the
// TypeScript one bit for bit; WGSL Box-Muller Gaussians against float64.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shaderSource } from '../../engine/gpu/shader-source.ts';
import { actionNoise, mulhi32, philox4x32, philoxGaussians, wordToUniform } from '../../engine/nn/philox.ts';
import { testDevice } from '../gpu/test-device.ts';

const hex = (w: Uint32Array) => [...w].map((x) => x.toString(16).padStart(8, '0')).join(' ');

test('mulhi32 gives the high word of 64-bit products', () => {
  // (2^32 - 1)^2 = 2^64 - 2^33 + 1, whose high word is 2^32 - 2.
  assert.equal(mulhi32(0xffffffff, 0xffffffff), 0xfffffffe);
  // 0xD2511F53 × 2 = 0x1_A4A2_3EA6: high word 1.
  assert.equal(mulhi32(0xd2511f53, 2), 1);
  // 2^16 × 2^16 = 2^32: high word 1; 2^31 × 2^31 = 2^62: high word 2^30.
  assert.equal(mulhi32(0x10000, 0x10000), 1);
  assert.equal(mulhi32(0x80000000, 0x80000000), 0x40000000);
  // 0xCD9E8D57² = 0xA527_5090_1B6C_F391 (BigInt): high word 0xA5275090.
  assert.equal(mulhi32(0xcd9e8d57, 0xcd9e8d57), 0xa5275090);
  assert.equal(mulhi32(0xcd9e8d57, 0xcd9e8d57), Number((0xcd9e8d57n * 0xcd9e8d57n) >> 32n));
});

test('philox4x32-10 matches the Random123 known-answer vectors', () => {
  // Random123 kat_vectors, "philox4x32 10" lines: counter, key, expected output.
  assert.equal(hex(philox4x32(0, 0, 0, 0, 0, 0)), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  assert.equal(hex(philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)), '408f276d 41c83b0e a20bc7c6 6d5451fd');
  assert.equal(hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)), 'd16cfe09 94fdcceb 5001e420 24126ea1');
});

test('words map to uniforms in (0, 1) and Gaussians by Box-Muller', () => {
  // word 0 → (0 + 0.5) 2^-24; word 2^32 - 1 → (2^24 - 1 + 0.5) 2^-24 = 1 - 2^-25.
  assert.equal(wordToUniform(0), 2 ** -25);
  assert.equal(wordToUniform(0xffffffff), 1 - 2 ** -25);
  // The low 8 bits are dropped: 0x000001ff → (1 + 0.5) 2^-24.
  assert.equal(wordToUniform(0x1ff), 1.5 * 2 ** -24);
  // Box-Muller by hand from the words of counter (1, 2, 0, 0), key (7, 0).
  const w = philox4x32(1, 2, 0, 0, 7, 0);
  const [u0, u1, u2, u3] = [...w].map(wordToUniform);
  const z = philoxGaussians(7, 1, 2, 0, 0);
  assert.equal(z[0], Math.sqrt(-2 * Math.log(u0)) * Math.cos(2 * Math.PI * u1));
  assert.equal(z[1], Math.sqrt(-2 * Math.log(u0)) * Math.sin(2 * Math.PI * u1));
  assert.equal(z[2], Math.sqrt(-2 * Math.log(u2)) * Math.cos(2 * Math.PI * u3));
  assert.equal(z[3], Math.sqrt(-2 * Math.log(u2)) * Math.sin(2 * Math.PI * u3));
  // Action dim j of env e at step t is Gaussian j & 3 of counter (e, t, j >> 2, 0): dim 6 → z[2] of (e, t, 1, 0).
  assert.equal(actionNoise(7, 1, 2, 2), z[2]);
  assert.equal(actionNoise(7, 1, 2, 6), philoxGaussians(7, 1, 2, 1, 0)[2]);
});

test('WGSL Philox words equal the TypeScript words bit for bit; WGSL Gaussians match float64', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const created: GPUBuffer[] = [];
  try {
    device.pushErrorScope('validation');
    const code = await shaderSource('philox-words.wgsl', ['philox.wgsl']);
    const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    // Counters: edge values, then a sweep of env × step as the policy uses, then scattered words.
    const n = 20000;
    const ctr = new Uint32Array(4 * n);
    const edges = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    for (let i = 0; i < n; i++) {
      if (i < edges.length ** 2) {
        ctr.set([edges[i % 6], edges[Math.floor(i / 6) % 6], edges[(i * 7) % 6], edges[(i * 5) % 6]], 4 * i);
      } else {
        ctr.set([i % 4096, Math.floor(i / 4096), i % 3, i % 2 ? 0 : Math.imul(i, 0x9e3779b9) >>> 0], 4 * i);
      }
    }
    const usage = GPUBufferUsage;
    const make = (size: number, u: number) => {
      const b = device.createBuffer({ size, usage: u });
      created.push(b);
      return b;
    };
    for (const seed of [0, 7, 0xdeadbeef]) {
      const args = make(16, usage.UNIFORM | usage.COPY_DST);
      device.queue.writeBuffer(args, 0, new Uint32Array([n, seed, 0, 0]));
      const counters = make(16 * n, usage.STORAGE | usage.COPY_DST);
      device.queue.writeBuffer(counters, 0, ctr);
      const words = make(16 * n, usage.STORAGE | usage.COPY_SRC | usage.COPY_DST);
      const gauss = make(16 * n, usage.STORAGE | usage.COPY_SRC | usage.COPY_DST);
      // Poison the outputs: 0xFFFFFFFF words and NaN Gaussians.
      device.queue.writeBuffer(words, 0, new Uint32Array(4 * n).fill(0xffffffff));
      device.queue.writeBuffer(gauss, 0, new Float32Array(4 * n).fill(NaN));
      const read = make(32 * n, usage.MAP_READ | usage.COPY_DST);
      const bindGroup = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [args, counters, words, gauss].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(n / 64));
      pass.end();
      enc.copyBufferToBuffer(words, 0, read, 0, 16 * n);
      enc.copyBufferToBuffer(gauss, 0, read, 16 * n, 16 * n);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const gpuWords = new Uint32Array(read.getMappedRange(0, 16 * n).slice(0));
      const gpuGauss = new Float32Array(read.getMappedRange(16 * n, 16 * n).slice(0));
      read.unmap();
      const w = new Uint32Array(4);
      const z = new Float64Array(4);
      let mismatches = 0;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        philox4x32(ctr[4 * i], ctr[4 * i + 1], ctr[4 * i + 2], ctr[4 * i + 3], seed, 0, w);
        philoxGaussians(seed, ctr[4 * i], ctr[4 * i + 1], ctr[4 * i + 2], ctr[4 * i + 3], z);
        for (let k = 0; k < 4; k++) {
          if (gpuWords[4 * i + k] !== w[k]) mismatches++;
          const e = Math.abs(gpuGauss[4 * i + k] - z[k]);
          worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
        }
      }
      assert.equal(mismatches, 0, `seed ${seed}: ${mismatches} of ${4 * n} words differ`);
      // f32 Box-Muller: |z| < 6, so a few ulp of 6 (4.8e-7 each) bound the error; SwiftShader's own
      // cos/sin (off by ~2e-4) would fail this.
      assert.ok(worst < 3e-6, `seed ${seed}: Gaussian error ${worst}`);
    }
    const err = await device.popErrorScope();
    assert.equal(err, null, `validation error: ${err?.message}`);
  } finally {
    for (const b of created) b.destroy();
    device.destroy();
  }
});
