/**
 * The one import of Rapier in cairn: swapping the build (simd-compat, compat) is a one-line change here.
 * `@dimforge/rapier3d-simd-compat` 0.20 measured ~2x faster than `@dimforge/rapier3d-compat` 0.21 and
 * loads in Node 20 and browsers without bundler flags (the compat builds inline their WASM).
 */
import RAPIER from '@dimforge/rapier3d-simd-compat';

/** The Rapier module namespace. */
export type Rapier = typeof RAPIER;
/** Package name and version of the Rapier build in use, for benchmark records. */
export const RAPIER_BUILD = '@dimforge/rapier3d-simd-compat';

let loading: Promise<Rapier> | null = null;

/** Initializes Rapier's WASM once per thread and returns the module. */
export function loadRapier(): Promise<Rapier> {
  loading ??= RAPIER.init().then(() => RAPIER);
  return loading;
}
