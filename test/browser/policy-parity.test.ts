// The policy parity check (test/nn/parity-check.ts) in headless Chromium: WebGPU on SwiftShader
// through navigator.gpu, the page served by Vite, driven by Playwright. Fails on any console error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PageResult } from './pages/policy-parity.ts';
import { launchChromium, startVite } from './view-harness.ts';

/** Largest normwise relative error allowed, as in the Node test. */
const TOL = 1e-5;

test('policy parity in headless Chromium (WebGPU on SwiftShader)', { timeout: 240_000 }, async (t) => {
  const { server, url } = await startVite();
  try {
    const chrome = await launchChromium({ webgpu: true });
    try {
      const page = chrome.context.pages()[0] ?? (await chrome.context.newPage());
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} for ${r.url()}`);
      });
      await page.goto(`${url}test/browser/pages/policy-parity.html`);
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
      await chrome.close();
    }
  } finally {
    await server.close();
  }
});
