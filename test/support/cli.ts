import path from 'node:path';
import { execa, type Options } from 'execa';

export const ROOTLET = path.resolve(import.meta.dirname, '../../dist/rootlet.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, without a terminal. */
export async function rootlet(args: string[], options: Options = {}): Promise<CliResult> {
  const result = await execa('node', [ROOTLET, ...args], {
    reject: false,
    stripFinalNewline: false,
    stdin: 'ignore',
    env: { NO_COLOR: undefined, ...options.env },
    ...options,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/**
 * The argv that runs a command as `user` the way that user would: their uid and groups, their runtime directory, a
 * clean environment with only `env` added.
 */
export function asUser(user: string, uid: number, command: string[], env: Record<string, string> = {}): [string, string[]] {
  const vars = Object.entries({ XDG_RUNTIME_DIR: `/run/user/${uid}`, PATH: '/usr/bin:/bin', ...env }).map(([key, value]) => `${key}=${value}`);
  return ['setpriv', ['--reuid', user, '--regid', user, '--init-groups', 'env', '-i', ...vars, ...command]];
}

/** The built CLI as `user` with a HOME of its own and CI set (plain progress), without a terminal. */
export function rootletAs(user: string, uid: number, home: string): (args: string[]) => Promise<CliResult> {
  return async (args) => {
    const result = await execa(...asUser(user, uid, ['node', ROOTLET, ...args], { HOME: home, CI: '1' }), { reject: false, stdin: 'ignore' });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  };
}
