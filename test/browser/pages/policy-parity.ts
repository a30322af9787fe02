// Browser side of test/browser/policy-parity.test.ts: runs the policy parity check on navigator.gpu and
// leaves the result on window.__parity for Playwright to read.
import { adapterInfoOf, getDevice } from '../../../engine/gpu/device.ts';
import { runParity, type ParityRow } from '../../nn/parity-check.ts';

/** What the page reports back. */
export interface PageResult {
  rows?: ParityRow[];
  adapter?: ReturnType<typeof adapterInfoOf>;
  /** Set when anything threw, or when a validation error escaped act(). */
  error?: string;
}

const status = document.getElementById('status')!;
const w = window as unknown as { __parity?: PageResult };

async function main(): Promise<PageResult> {
  const device = await getDevice();
  try {
    device.pushErrorScope('validation');
    const rows = await runParity(device);
    const err = await device.popErrorScope();
    if (err) return { error: `validation error: ${err.message}` };
    return { rows, adapter: adapterInfoOf(device) };
  } finally {
    device.destroy();
  }
}

main().then(
  (r) => {
    w.__parity = r;
    status.textContent = JSON.stringify(r, null, 1);
  },
  (err: Error) => {
    w.__parity = { error: `${err.name}: ${err.message}\n${err.stack ?? ''}` };
    status.textContent = w.__parity.error!;
  },
);
