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
