// The dense-layer kernel alone: odd sizes (tail tiles in rows and outputs), a 2-D workgroup grid as
// large batches use, the tanh clamp, and the backend's workgroup grid arithmetic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shaderSource } from '../../engine/gpu/shader-source.ts';
import { uniformView } from '../../engine/gpu/struct-view.ts';
import { workgroupGrid } from '../../engine/nn/webgpu-dispatches.ts';
import { TRAIN_WORKGROUP_SIZE } from '../../engine/nn/webgpu-pipelines.ts';
import { testDevice } from '../gpu/test-device.ts';
import { uniformStream } from './parity-check.ts';

test('workgroupGrid covers every workgroup within the per-dimension limit', () => {
  // 100 rows → ceil(100 / 64) = 2 workgroups in one row.
  assert.deepEqual(workgroupGrid(Math.ceil(100 / TRAIN_WORKGROUP_SIZE), 65535), [2, 1]);
  // 70000 workgroups: 65535 wide, 2 rows.
  assert.deepEqual(workgroupGrid(70000, 65535), [65535, 2]);
  assert.deepEqual(workgroupGrid(1, 65535), [1, 1]);
  assert.throws(() => workgroupGrid(10 * 10 + 1, 10), /101 workgroups exceed the 10² grid/);
  assert.equal(TRAIN_WORKGROUP_SIZE, 64);
});

test('mlp-layer.wgsl: 1500 rows, 5 → 7 with tanh, on a 5 × 3 grid, matches float64', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  const buffers: GPUBuffer[] = [];
  try {
    device.pushErrorScope('validation');
    const N = 1500;
    const IN = 5;
    const OUT = 7;
    // Params: 3 leading pad floats, then W [7, 5] at 3 and bias [7] at 38; 45 floats.
    const W_OFFSET = 3;
    const B_OFFSET = W_OFFSET + IN * OUT;
    const rnd = uniformStream(3);
    const params = new Float32Array(B_OFFSET + OUT).map(() => 2 * rnd() - 1);
    // Output 6 gets weights of 30: |pre-activation| up to ~150, past SwiftShader's tanh NaN limit.
    for (let k = 0; k < IN; k++) params[W_OFFSET + 6 * IN + k] = 30;
    const x = new Float32Array(N * IN).map(() => 2 * rnd() - 1);
    const code = await shaderSource('mlp-layer.wgsl', ['act-args.wgsl', 'grid-index.wgsl', 'tile.wgsl']);
    const pipeline = await device.createComputePipelineAsync({
      layout: 'auto',
      compute: {
        module: device.createShaderModule({ code }),
        entryPoint: 'main',
        constants: { IN_DIM: IN, OUT_DIM: OUT, W_OFFSET, B_OFFSET, TANH: 1, WORKGROUP_SIZE: 64 },
      },
    });
    const args = uniformView(code, 'args');
    args.set({ n: N, step: 0, seed: 0, env_offset: 0, deterministic: 0 });
    const U = GPUBufferUsage;
    const make = (data: ArrayBufferView<ArrayBuffer> | number, usage: number) => {
      const size = typeof data === 'number' ? data : data.byteLength;
      const b = device.createBuffer({ size, usage: usage | U.COPY_DST });
      if (typeof data !== 'number') device.queue.writeBuffer(b, 0, data);
      buffers.push(b);
      return b;
    };
    const argBuf = make(new Uint8Array(args.arrayBuffer), U.UNIFORM);
    const paramBuf = make(params, U.STORAGE);
    const xBuf = make(x, U.STORAGE);
    const yBuf = make(new Float32Array(N * OUT).fill(NaN), U.STORAGE | U.COPY_SRC);
    const read = make(N * OUT * 4, U.MAP_READ);
    // Tiles: ceil(1500 / 4) = 375 row tiles × ceil(7 / 4) = 2 output tiles = 750 → 12 workgroups of 64.
    // A 5 × 3 grid has 15: the kernel numbers them y · 5 + x and the last 3 return at the guard.
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [argBuf, paramBuf, xBuf, yBuf].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(5, 3);
    pass.end();
    enc.copyBufferToBuffer(yBuf, 0, read, 0, N * OUT * 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const y = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    let worstRatio = 0;
    for (let b = 0; b < N; b++) {
      for (let o = 0; o < OUT; o++) {
        let acc = params[B_OFFSET + o];
        let mag = Math.abs(acc);
        for (let k = 0; k < IN; k++) {
          acc += params[W_OFFSET + o * IN + k] * x[b * IN + k];
          mag += Math.abs(params[W_OFFSET + o * IN + k] * x[b * IN + k]);
        }
        const want = Math.tanh(Math.max(-20, Math.min(20, acc)));
        const got = y[b * OUT + o];
        assert.ok(Number.isFinite(got), `y[${b}, ${o}] = ${got} (never written, or tanh of an unclamped argument)`);
        // f32 sum of 6 terms: each add rounds by ≤ 2^-24 of a partial sum ≤ mag, so ≤ 6·2^-24·mag,
        // and |tanh'| ≤ 1; plus 2e-7 for tanh itself. Output 6 has mag up to ~150: ≤ 5.4e-5.
        const tol = 6 * 2 ** -24 * mag + 2e-7;
        worstRatio = Math.max(worstRatio, Math.abs(got - want) / tol);
      }
    }
    assert.ok(worstRatio <= 1, `error ${worstRatio.toFixed(2)}× the f32 rounding bound`);
    t.diagnostic(`worst error ${(worstRatio * 100).toFixed(1)}% of the f32 rounding bound`);
    const err = await device.popErrorScope();
    assert.equal(err, null, `validation error: ${err?.message}`);
  } finally {
    for (const b of buffers) b.destroy();
    device.destroy();
  }
});
