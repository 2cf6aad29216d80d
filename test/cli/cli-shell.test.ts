import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { ROOTLET } from '../support/cli.js';

it('stays quiet when its reader stops early (rootlet up --help | head -1)', async () => {
  const child = spawn('node', [ROOTLET, 'up', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Close the pipe at once, as `head -1` does after its line: every later write hits EPIPE.
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
  expect(code).toBe(0);
});
