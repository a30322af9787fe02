// The policy parity check (test/nn/parity-check.ts) in headless Chromium: WebGPU on SwiftShader
// through navigator.gpu, the page served by Vite, driven by Playwright. Fails on any console error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import type { PageResult } from './pages/policy-parity.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
/** Flags from DESIGN.md §7: WebGPU compute on SwiftShader, nothing that reaches the network. */
const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
/** A port that was free a moment ago on 127.0.0.1 (Vite reads port 0 as its default, 5173). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Largest normwise relative error allowed, as in the Node test. */
const TOL = 1e-5;

test('policy parity in headless Chromium (WebGPU on SwiftShader)', { timeout: 240_000 }, async (t) => {
  const profile = mkdtempSync(join(tmpdir(), 'cairn-chromium-'));
  const cacheDir = mkdtempSync(join(tmpdir(), 'cairn-vite-'));
  const server = await createServer({
    root: ROOT,
    configFile: false,
    cacheDir,
    logLevel: 'error',
    clearScreen: false,
    optimizeDeps: { noDiscovery: true, include: [] },
    server: { host: '127.0.0.1', port: await freePort(), strictPort: true, hmr: false, watch: null },
  });
  try {
    await server.listen();
    const { port } = server.httpServer!.address() as AddressInfo;
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} for ${r.url()}`);
      });
      await page.goto(`http://127.0.0.1:${port}/test/browser/pages/policy-parity.html`);
      await page.waitForFunction(() => (window as unknown as { __parity?: unknown }).__parity !== undefined, undefined, { timeout: 200_000, polling: 250 });
      const result = (await page.evaluate(() => (window as unknown as { __parity: unknown }).__parity)) as PageResult;
      assert.equal(result.error, undefined, result.error);
      assert.deepEqual(consoleErrors, []);
      t.diagnostic(`adapter ${JSON.stringify(result.adapter)}`);
      assert.equal(result.adapter!.runtime, 'browser');
      const rows = result.rows!;
      assert.equal(rows.length, 16);
      for (const r of rows) {
        const where = `${r.arch} N=${r.n} ${r.deterministic ? 'deterministic' : 'sampled'}`;
        assert.equal(r.unwritten, 0, `${where}: ${r.unwritten} output elements NaN`);
        for (const [k, e] of Object.entries(r.relErr)) assert.ok(e < TOL, `${where}: ${k} relative error ${e} ≥ ${TOL}`);
      }
      const worst = Math.max(...rows.flatMap((r) => Object.values(r.relErr)));
      t.diagnostic(`max relative error in Chromium ${worst.toExponential(2)}`);
    } finally {
      await context.close();
    }
  } finally {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
