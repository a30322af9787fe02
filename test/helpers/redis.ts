// A free loopback port and Debian's redis-server on it, for the queue test and bench/queue.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Starts redis-server on 127.0.0.1 at a free port, in memory only; resolves with it and its URL once it accepts connections. */
export async function startRedis(): Promise<{ redis: ChildProcess; url: string }> {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) throw new Error('redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)');
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${out.slice(-500)}`)), 10_000);
    redis.stdout!.on('data', (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    redis.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`));
    });
  });
  return { redis, url: `redis://127.0.0.1:${port}` };
}
