/**
 * Struct layouts of WGSL uniforms, read by webgpu-utils from the shader text, so TypeScript never
 * repeats a WGSL struct's offsets or padding.
 */
import './float16-polyfill.ts';
import { makeShaderDataDefinitions, makeStructuredView, type StructuredView } from 'webgpu-utils';

/** Structured view (named typed arrays over one ArrayBuffer) of the uniform variable `name` in `code`. */
export function uniformView(code: string, name: string): StructuredView {
  const defs = makeShaderDataDefinitions(code);
  const def = defs.uniforms[name];
  if (!def) throw new Error(`no uniform named ${name} in the shader (have: ${Object.keys(defs.uniforms).join(', ')})`);
  return makeStructuredView(def);
}
