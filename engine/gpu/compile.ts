/**
 * Compiles kernels from shaders/ into shader modules, raising compiler errors at their source file and line.
 */
import { GpuError, openErrorScopes } from './errors.ts';
import { shaderLineOrigin, shaderSource } from './shader-source.ts';

/** A kernel file in shaders/ and the library files shaderSource prepends to it, in order. */
export type KernelSource = readonly [kernel: string, libs: readonly string[]];

/** Compiled kernels: the WGSL of each (for uniform layouts) and its shader module, in the order asked. */
export interface CompiledKernels {
  codes: string[];
  modules: GPUShaderModule[];
}

/** Throws a GpuError listing the compiler's errors at their source file and line, when a kernel did not compile. */
async function checkCompiled(module: GPUShaderModule, [kernel, libs]: KernelSource): Promise<void> {
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    const lines = await Promise.all(errors.map(async (m) => `  ${await shaderLineOrigin(kernel, libs, m.lineNum)}:${m.linePos}: ${m.message}`));
    throw new GpuError(`${kernel} did not compile:\n${lines.join('\n')}`, 'validation');
  }
}

/** Loads and compiles every kernel; rejects with a GpuError naming `what` when any fails (the compiler's messages win). */
export async function compileKernels(device: GPUDevice, what: string, kernels: readonly KernelSource[]): Promise<CompiledKernels> {
  const codes = await Promise.all(kernels.map(([k, libs]) => shaderSource(k, libs)));
  const close = openErrorScopes(device, what);
  const modules = kernels.map(([k], i) => device.createShaderModule({ label: k, code: codes[i] }));
  const scopes = close();
  // The compiler's messages say more than the scope's "invalid shader module", so they win.
  await Promise.all(modules.map((m, i) => checkCompiled(m, kernels[i]))).catch(async (err) => {
    await scopes.catch(() => undefined);
    throw err;
  });
  await scopes;
  return { codes, modules };
}
