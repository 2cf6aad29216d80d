import { describe, expect, it, vi } from 'vitest';
import { loadExitCode, type LoadResult } from '../../src/cluster/load.js';
import { commandEcho, progressStyle } from '../../src/cluster/progress.js';
import { ExitCode } from '../../src/errors.js';
import { Transcript } from '../../src/kube/transcript.js';

describe('progressStyle', () => {
  const terminal = { json: false, env: {}, stderrIsTTY: true };
  it('redraws on a terminal, prints lines in CI, a pipe, NO_COLOR or a dumb terminal', () => {
    expect(progressStyle(terminal)).toBe('fancy');
    expect(progressStyle({ ...terminal, env: { CI: 'true' } })).toBe('plain');
    expect(progressStyle({ ...terminal, env: { CI: 'false' } })).toBe('fancy');
    expect(progressStyle({ ...terminal, stderrIsTTY: false })).toBe('plain');
    expect(progressStyle({ ...terminal, env: { NO_COLOR: '1' } })).toBe('plain');
    expect(progressStyle({ ...terminal, env: { TERM: 'dumb' } })).toBe('plain');
  });

  it('shows nothing with --json or --quiet, and every command with --verbose', () => {
    expect(progressStyle({ ...terminal, json: true, verbose: true })).toBe('silent');
    expect(progressStyle({ ...terminal, quiet: true })).toBe('silent');
    expect(progressStyle({ ...terminal, verbose: true })).toBe('verbose');
  });
});

describe('commandEcho', () => {
  it('prints each command of the transcript on stderr as it ends, the token redacted; nothing unless verbose', () => {
    expect(commandEcho('plain')).toBeUndefined();
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const transcript = new Transcript(commandEcho('verbose'));
    transcript.record('dev-worker', ['kubeadm', 'join', '--token', 'abcdef.0123456789abcdef'], 0, 'secret out', 812);
    expect(write).toHaveBeenCalledWith('  [dev-worker] $ kubeadm join --token <redacted> -> exit 0, 812 ms\n');
    expect(String(write.mock.calls[0]![0])).not.toContain('secret out');
  });
});

describe('loadExitCode', () => {
  const result = (...outcomes: Array<[string, number?]>): LoadResult => ({
    cluster: 'dev',
    notes: [],
    seconds: 1,
    nodes: outcomes.map(([outcome, exitCode], index) => ({
      node: `n${index}`,
      host: 'this host',
      item: 'app:1',
      outcome: outcome as 'loaded',
      seconds: 1,
      ...(exitCode === undefined ? {} : { error: { code: 'x', message: 'm', exitCode } }),
    })),
  });
  it('is 0 only when every node has the image, the failures’ common code, else 1', () => {
    expect(loadExitCode(result(['loaded'], ['present'], ['tagged']))).toBe(ExitCode.ok);
    expect(loadExitCode(result(['loaded'], ['failed', ExitCode.ssh]))).toBe(ExitCode.ssh);
    expect(loadExitCode(result(['failed', ExitCode.ssh], ['failed', ExitCode.engine]))).toBe(ExitCode.failure);
  });
});
