/**
 * Vite config of the in-browser view (`npm run view`, entry index.html at the repo root).
 *
 * - Rapier and three are pre-bundled at server start, so the first page load does not discover them and
 *   trigger a reload (which the browser tests would see as a navigation in the middle of a run).
 * - Node-only code (worker threads, file reads) is imported through `importHidden` (engine/gpu/device.ts),
 *   so neither the dev server nor `vite build` pulls it into the page.
 * - Every response carries COOP `same-origin` and COEP `require-corp`, so the page is cross-origin isolated and
 *   has SharedArrayBuffer: training in the tab can then run the WASM backend and the physics on several threads
 *   (a static host of `vite build` must send the same two headers; see the README).
 * - `appType: 'mpa'`: a path with no file behind it is a 404, not index.html, so `?policy=URL` naming a
 *   missing checkpoint fails as "HTTP 404" (the page serves checkpoints under the root, e.g. runs/).
 */
import { defineConfig } from 'vite';

/** The headers that make the page cross-origin isolated (SharedArrayBuffer, shared WebAssembly memory). */
const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  clearScreen: false,
  appType: 'mpa',
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  worker: { format: 'es' },
  optimizeDeps: {
    include: ['three', 'three/examples/jsm/controls/OrbitControls.js', '@dimforge/rapier3d-simd-compat'],
  },
  // Rapier's compat build inlines its WASM as base64 (~3 MB of the bundle).
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
