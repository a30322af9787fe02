// Device acquisition, adapter info, the no-adapter error, GPU errors as exceptions, shader loading and
// uniform layouts from WGSL.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { adapterInfoOf } from '../../engine/gpu/device.ts';
import { GpuError, LossWatch, withErrorScopes } from '../../engine/gpu/errors.ts';
import { loadWgsl, shaderLineOrigin, shaderSource } from '../../engine/gpu/shader-source.ts';
import { uniformView } from '../../engine/gpu/struct-view.ts';
import { testDevice } from './test-device.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/get-device.ts', import.meta.url));
/** The environment as this process started, before getDevice() set any Vulkan loader variable. */
const STARTING_ENV = { ...process.env };

/** Runs getDevice() in a fresh Node process with the starting environment plus `env`. */
function childGetDevice(env: Record<string, string>): { ok: boolean; message?: string; info?: Record<string, unknown> } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...STARTING_ENV, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

test('getDevice gives a working device and says which adapter it is', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  try {
    const info = adapterInfoOf(device);
    t.diagnostic(JSON.stringify(info));
    assert.equal(info.runtime, 'dawn-node');
    assert.ok(info.vendor.length > 0 && info.architecture.length > 0, JSON.stringify(info));
    if (info.vulkanIcd?.includes('swiftshader')) {
      // The SwiftShader fallback: Google's CPU Vulkan driver, reported as a fallback adapter.
      assert.equal(info.vendor, 'google');
      assert.equal(info.architecture, 'swiftshader');
      assert.equal(info.isFallbackAdapter, true);
    }
    // Storage limits are raised to the adapter's (the WebGPU default binding limit is 128 MiB).
    assert.ok(device.limits.maxStorageBufferBindingSize >= 134217728);
  } finally {
    device.destroy();
  }
});

test('with no usable Vulkan driver the error says what to install', () => {
  const r = childGetDevice({ VK_ICD_FILENAMES: '/nonexistent/icd.json' });
  assert.equal(r.ok, false);
  assert.match(r.message!, /No WebGPU adapter found with the Vulkan ICD \/nonexistent\/icd\.json/);
  assert.match(r.message!, /apt-get install -y chromium libvulkan1/);
});

test('a fresh process with the default environment falls back to SwiftShader when there is no GPU driver', (t) => {
  const r = childGetDevice({});
  if (!r.ok && process.env.CI !== 'true') return t.skip(r.message!);
  assert.equal(r.ok, true, r.message);
  t.diagnostic(JSON.stringify(r.info));
  const icd = String(r.info!.vulkanIcd);
  const callerIcd = STARTING_ENV.VK_ICD_FILENAMES ?? STARTING_ENV.VK_DRIVER_FILES;
  if (callerIcd) {
    // The caller chose a driver: getDevice uses it and changes nothing.
    assert.equal(icd, callerIcd);
  } else {
    // Either a hardware driver (`system`) or SwiftShader, found with no variable set by the caller.
    assert.ok(icd === 'system' || icd.endsWith('vk_swiftshader_icd.json'), icd);
    if (icd !== 'system') assert.equal(r.info!.architecture, 'swiftshader');
  }
});

test('GPU errors become GpuError exceptions; a lost device is reported', async (t) => {
  const device = await testDevice();
  if (typeof device === 'string') return t.skip(device);
  try {
    // MAP_READ may only be combined with COPY_DST: a validation error.
    await assert.rejects(
      withErrorScopes(device, 'bad buffer', () => device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE }).destroy()),
      (e: unknown) => e instanceof GpuError && e.kind === 'validation' && /^bad buffer: WebGPU validation error/.test(e.message),
    );
    assert.equal(await withErrorScopes(device, 'fine', () => 42), 42);
    const watch = new LossWatch(device);
    watch.check('before');
    device.destroy();
    await device.lost;
    assert.throws(() => watch.check('after'), (e: unknown) => e instanceof GpuError && e.kind === 'device-lost' && /after: WebGPU device lost \(destroyed\)/.test(e.message));
  } finally {
    device.destroy();
  }
});

test('WGSL files load from shaders/ and uniform layouts come from the WGSL text', async () => {
  assert.match(await loadWgsl('act-args.wgsl'), /struct ActArgs/);
  await assert.rejects(loadWgsl('no-such-kernel.wgsl'), /ENOENT/);
  const code = await shaderSource('mlp-layer.wgsl', ['act-args.wgsl']);
  assert.ok(code.indexOf('struct ActArgs') < code.indexOf('fn main'));
  const v = uniformView(code, 'args');
  // ActArgs is five u32 (n, step, seed, env_offset, deterministic): offsets 0, 4, 8, 12, 16; 20 bytes.
  assert.equal(v.arrayBuffer.byteLength, 20);
  v.set({ n: 1, step: 2, seed: 3, env_offset: 4, deterministic: 5 });
  assert.deepEqual([...new Uint32Array(v.arrayBuffer)], [1, 2, 3, 4, 5]);
  assert.throws(() => uniformView(code, 'nope'), /no uniform named nope in the shader \(have: args\)/);
  // Compiler line numbers map back to files: act-args.wgsl has k lines, so line k + 1 is mlp-layer.wgsl:1.
  const k = (await loadWgsl('act-args.wgsl')).split('\n').length;
  assert.equal(await shaderLineOrigin('mlp-layer.wgsl', ['act-args.wgsl'], 1), 'act-args.wgsl:1');
  assert.equal(await shaderLineOrigin('mlp-layer.wgsl', ['act-args.wgsl'], k), `act-args.wgsl:${k}`);
  assert.equal(await shaderLineOrigin('mlp-layer.wgsl', ['act-args.wgsl'], k + 1), 'mlp-layer.wgsl:1');
  assert.equal(code.split('\n')[k], (await loadWgsl('mlp-layer.wgsl')).split('\n')[0]);
});
