/**
 * Test harness of the view: a Vite dev server on the repo root (127.0.0.1, a free port) and Debian's
 * Chromium driven by playwright-core in a fresh profile (WebGPU and WebGL on SwiftShader, no network chatter); the
 * view tests and the policy parity test share it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';

/** The repository root (Vite's root; index.html lives there). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';

/** Chromium flags: WebGPU on SwiftShader, WebGL through ANGLE on SwiftShader, and no network chatter. */
export function chromiumArgs(webgpu: boolean): string[] {
  return [
    ...(webgpu ? ['--enable-unsafe-webgpu'] : []),
    '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader', '--no-sandbox', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  ];
}

/** Starts Vite on the repo root at 127.0.0.1 and a free port; returns the server and its base URL. */
export async function startVite(): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({ root: REPO_ROOT, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false } });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('vite: no TCP address');
  return { server, url: `http://127.0.0.1:${addr.port}/` };
}

/** A Chromium with a fresh profile; `close()` also removes the profile. */
export async function launchChromium(opts: { webgpu?: boolean } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-view-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: chromiumArgs(opts.webgpu ?? true), viewport: { width: 1280, height: 760 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Collects the page's console errors and uncaught exceptions. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** Opens the view at `query` and waits until it has drawn a frame (throws the page's error if it failed). */
export async function openView(page: Page, baseUrl: string, query: string, timeoutMs = 30000): Promise<void> {
  await page.goto(`${baseUrl}${query}`);
  await page.waitForFunction(() => {
    const s = window.cairnView?.state();
    return s !== undefined && (s.ready || s.error !== null);
  }, undefined, { timeout: timeoutMs, polling: 100 });
  const err = await page.evaluate(() => window.cairnView!.state().error);
  if (err) throw new Error(`view failed: ${err}`);
}

/** Screenshots of the browser tests go here. */
export const RESULTS = join(REPO_ROOT, 'test-results');

/** What viewSession gives a test file: the server URL, the browser, and a page opener. */
export interface ViewSession {
  readonly baseUrl: string;
  readonly browser: Awaited<ReturnType<typeof launchChromium>>;
  /** Opens a page on the view at `query` and returns it with the list its console errors go to. */
  open(query: string): Promise<{ page: Page; errors: string[] }>;
}

/** Starts Vite and Chromium before the file's tests (creating test-results/) and stops both after them. */
export function viewSession(opts: { webgpu: boolean }): ViewSession {
  let server: ViteDevServer | undefined;
  let baseUrl = '';
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  before(async () => {
    mkdirSync(RESULTS, { recursive: true });
    ({ server, url: baseUrl } = await startVite());
    browser = await launchChromium(opts);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get baseUrl() { return baseUrl; },
    get browser() { return browser!; },
    async open(query) {
      const page = await browser!.context.newPage();
      const errors = collectErrors(page);
      await openView(page, baseUrl, query);
      return { page, errors };
    },
  };
}
