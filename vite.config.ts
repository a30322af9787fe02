/**
 * Vite config of the in-browser view (`npm run view`, entry index.html at the repo root).
 *
 * - Rapier and three are pre-bundled at server start, so the first page load does not discover them and
 *   trigger a reload (which the browser tests would see as a navigation in the middle of a run).
 * - Node-only code (worker threads, file reads) is imported through `importHidden` (engine/gpu/device.ts),
 *   so neither the dev server nor `vite build` pulls it into the page.
 * - `appType: 'mpa'`: a path with no file behind it is a 404, not index.html, so `?policy=URL` naming a
 *   missing checkpoint fails as "HTTP 404" (the page serves checkpoints under the root, e.g. runs/).
 */
import { defineConfig } from 'vite';

export default defineConfig({
  clearScreen: false,
  appType: 'mpa',
  server: { host: '127.0.0.1' },
  optimizeDeps: {
    include: ['three', 'three/examples/jsm/controls/OrbitControls.js', '@dimforge/rapier3d-simd-compat'],
  },
  // Rapier's compat build inlines its WASM as base64 (~3 MB of the bundle).
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
