import { expect } from 'vitest';
import { RootletError } from '../../src/errors.js';

/** The RootletError `action` throws, to assert on its code, exit code, message and hint; fails when it throws none. */
export function thrown(action: () => unknown): RootletError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(RootletError);
    return error as RootletError;
  }
  throw new Error('expected a RootletError');
}
