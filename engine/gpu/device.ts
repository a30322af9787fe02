/**
 * WebGPU device acquisition, one function for Node (npm `webgpu`, Dawn) and the browser (`navigator.gpu`).
 *
 * Node on Linux: Dawn drives Vulkan. Unless the caller set VK_ICD_FILENAMES or VK_DRIVER_FILES, a
 * hardware Vulkan driver is tried first when one looks present (a non-software ICD json and a GPU device
 * node); when none is present, or Dawn finds no adapter on it, the Vulkan loader is pointed at Chromium's
 * SwiftShader ICD (a CPU implementation) and Dawn is asked again. The loader reads the variables when
 * Dawn creates its Vulkan instance, so they are set before that `create()`. Debian's lavapipe 22.x is
 * rejected by Dawn and is not used.
 */
/// <reference types="@webgpu/types" />

/** What adapter a device runs on, as reported by WebGPU plus how cairn found it. */
export interface AdapterInfo {
  /** Adapter vendor, e.g. `nvidia`, `google` (SwiftShader). */
  vendor: string;
  /** Adapter architecture, e.g. `hopper`, `swiftshader`. */
  architecture: string;
  /** Device name where the implementation gives one. */
  device: string;
  /** Driver description, e.g. `SwiftShader driver 5.0.0`. */
  description: string;
  /** True for a software or otherwise fallback adapter (SwiftShader is one). */
  isFallbackAdapter: boolean;
  /** Where WebGPU came from: `dawn-node` (npm webgpu) or `browser` (navigator.gpu). */
  runtime: 'dawn-node' | 'browser';
  /** Node only: the Vulkan ICD json cairn forced (SwiftShader fallback or the caller's), or `system`. */
  vulkanIcd?: string;
}

/** Options of getDevice. */
export interface GetDeviceOptions {
  /** Adapter preference; default `high-performance`. */
  powerPreference?: GPUPowerPreference;
  /** Features the device must have. */
  requiredFeatures?: GPUFeatureName[];
  /** Node only: skip any hardware driver and use SwiftShader. */
  forceSwiftShader?: boolean;
}

/** Where Chromium and Playwright builds put SwiftShader's Vulkan ICD; the first that exists is used. */
export const SWIFTSHADER_ICD_CANDIDATES = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
  '/snap/chromium/current/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

/** What to install when no adapter can be had, shown in the error. */
export const NO_ADAPTER_HELP =
  'Install a Vulkan loader and a driver: on Debian/Ubuntu `apt-get install -y chromium libvulkan1` gives ' +
  "Chromium's SwiftShader (a CPU Vulkan driver, /usr/lib/chromium/vk_swiftshader_icd.json) that cairn uses " +
  'when no GPU driver is found; with a GPU, install its Vulkan driver (e.g. the NVIDIA driver with Vulkan ' +
  'support, or mesa-vulkan-drivers). You can also point VK_ICD_FILENAMES at a Vulkan ICD json.';

const infoByDevice = new WeakMap<GPUDevice, AdapterInfo>();
/** Each device keeps the Dawn instance (`GPU` object) that made it alive. */
const instanceByDevice = new WeakMap<GPUDevice, unknown>();

type NodeFs = typeof import('node:fs');
type WebGpuModule = typeof import('webgpu');

/** Imports a module by a name the bundler does not see, so browser builds never pull in Node code. */
export function importHidden<T>(name: string): Promise<T> {
  return import(/* @vite-ignore */ name) as Promise<T>;
}

/** True when running in Node (not a browser, not a worker of one). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

/** First SwiftShader ICD json on this machine (CAIRN_SWIFTSHADER_ICD, then the known places), or null. */
function findSwiftShaderIcd(fs: NodeFs): string | null {
  const env = process.env.CAIRN_SWIFTSHADER_ICD;
  const home = process.env.HOME ?? '';
  const candidates = env ? [env, ...SWIFTSHADER_ICD_CANDIDATES] : [...SWIFTSHADER_ICD_CANDIDATES];
  // Playwright-downloaded Chromium builds carry one too.
  const pw = `${home}/.cache/ms-playwright`;
  if (home && fs.existsSync(pw)) {
    for (const d of fs.readdirSync(pw).filter((n) => n.startsWith('chromium')).sort().reverse()) {
      candidates.push(`${pw}/${d}/chrome-linux/vk_swiftshader_icd.json`, `${pw}/${d}/chrome-linux64/vk_swiftshader_icd.json`);
    }
  }
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

/** True when a hardware Vulkan driver looks usable: a non-software ICD json and a GPU device node. */
function hardwareVulkanLikely(fs: NodeFs): boolean {
  const dataDirs = (process.env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':');
  const icdDirs = ['/etc/vulkan/icd.d', ...dataDirs.map((d) => `${d}/vulkan/icd.d`)];
  const software = /lvp|lavapipe|swiftshader|mock/i;
  const hasIcd = icdDirs.some((d) => fs.existsSync(d) && fs.readdirSync(d).some((f) => f.endsWith('.json') && !software.test(f)));
  const hasDri = fs.existsSync('/dev/dri') && fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  const hasGpuNode = hasDri || fs.existsSync('/dev/nvidia0') || fs.existsSync('/dev/dxg');
  return hasIcd && hasGpuNode;
}

/** Requests an adapter and a device from a GPU object, with the adapter's storage limits. */
async function deviceFrom(gpu: GPU, opts: GetDeviceOptions): Promise<{ adapter: GPUAdapter; device: GPUDevice } | null> {
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) return null;
  const missing = (opts.requiredFeatures ?? []).filter((f) => !adapter.features.has(f));
  if (missing.length) throw new Error(`WebGPU adapter lacks required features: ${missing.join(', ')}`);
  const device = await adapter.requestDevice({
    requiredFeatures: opts.requiredFeatures ?? [],
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  return { adapter, device };
}

/** Copies the adapter's info into a plain object. */
function describe(adapter: GPUAdapter, runtime: AdapterInfo['runtime'], vulkanIcd?: string): AdapterInfo {
  const i = adapter.info;
  const info: AdapterInfo = {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    isFallbackAdapter: Boolean(i.isFallbackAdapter),
    runtime,
  };
  if (vulkanIcd !== undefined) info.vulkanIcd = vulkanIcd;
  return info;
}

/** Node: a Dawn device, on a hardware Vulkan driver when there is one, else on SwiftShader. */
async function nodeDevice(opts: GetDeviceOptions): Promise<GPUDevice> {
  const fs = await importHidden<NodeFs>('node:fs');
  const os = await importHidden<typeof import('node:os')>('node:os');
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = os.tmpdir();
  const webgpu = await importHidden<WebGpuModule>('webgpu');
  Object.assign(globalThis, webgpu.globals);
  const userIcd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  const linux = process.platform === 'linux';
  const tryCreate = async (icd?: string) => {
    const gpu = webgpu.create([]);
    const got = await deviceFrom(gpu, opts);
    if (!got) return null;
    instanceByDevice.set(got.device, gpu);
    infoByDevice.set(got.device, describe(got.adapter, 'dawn-node', icd));
    return got.device;
  };
  if (!linux || userIcd) {
    const d = await tryCreate(userIcd);
    if (d) return d;
    throw new Error(`No WebGPU adapter found${userIcd ? ` with the Vulkan ICD ${userIcd}` : ''}. ${NO_ADAPTER_HELP}`);
  }
  if (!opts.forceSwiftShader && hardwareVulkanLikely(fs)) {
    const d = await tryCreate('system');
    if (d) return d;
  }
  const icd = findSwiftShaderIcd(fs);
  if (!icd) {
    throw new Error(`No WebGPU adapter: no Vulkan driver for a GPU and no SwiftShader ICD (looked in ${SWIFTSHADER_ICD_CANDIDATES[0]} and others). ${NO_ADAPTER_HELP}`);
  }
  process.env.VK_ICD_FILENAMES = icd;
  const d = await tryCreate(icd);
  if (d) return d;
  throw new Error(`No WebGPU adapter even with SwiftShader (${icd}); is libvulkan1 (the Vulkan loader) installed? ${NO_ADAPTER_HELP}`);
}

/** Browser: a device from navigator.gpu. */
async function browserDevice(opts: GetDeviceOptions): Promise<GPUDevice> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new Error(
      'WebGPU is not available here (navigator.gpu is undefined): use Chrome/Edge 113+ or another browser with ' +
        'WebGPU enabled, in a secure context (https or localhost); headless Chromium needs --enable-unsafe-webgpu.',
    );
  }
  const got = await deviceFrom(gpu, opts);
  if (!got) throw new Error('navigator.gpu.requestAdapter() returned null: this browser has WebGPU but no usable adapter (GPU blocklisted or disabled).');
  infoByDevice.set(got.device, describe(got.adapter, 'browser'));
  return got.device;
}

/**
 * Returns a WebGPU device in Node or the browser (see this file's header); throws an error that says what
 * to install when there is no adapter. The caller owns the device and MUST `destroy()` it when done.
 */
export async function getDevice(opts: GetDeviceOptions = {}): Promise<GPUDevice> {
  return isNode() ? nodeDevice(opts) : browserDevice(opts);
}

/** Adapter info of a device: what getDevice recorded, else what the device itself reports. */
export function adapterInfoOf(device: GPUDevice): AdapterInfo {
  const known = infoByDevice.get(device);
  if (known) return known;
  const i = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    vendor: i?.vendor ?? 'unknown',
    architecture: i?.architecture ?? 'unknown',
    device: i?.device ?? '',
    description: i?.description ?? '',
    isFallbackAdapter: Boolean(i?.isFallbackAdapter),
    runtime: isNode() ? 'dawn-node' : 'browser',
  };
}
