/**
 * The one module that prompts (STYLE 1, 10). Questions go to stderr, as progress does: stdout stays data. Ctrl-C in a
 * prompt (inquirer's ExitPromptError: the terminal is raw, so no SIGINT reaches the process) is an interrupt, exit 130.
 */
import { confirm, input, number, select } from '@inquirer/prompts';
import { interrupted } from '../errors.js';

export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
}

const context = () => ({ input: process.stdin, output: process.stderr });

async function answered<T>(prompt: Promise<T>): Promise<T> {
  try {
    return await prompt;
  } catch (error) {
    // Matched by name: the class lives in @inquirer/core, which @inquirer/prompts does not re-export.
    if ((error as { name?: string } | undefined)?.name === 'ExitPromptError') throw interrupted(error);
    throw error;
  }
}

export function askYesNo(message: string, defaultAnswer: boolean): Promise<boolean> {
  return answered(confirm({ message, default: defaultAnswer }, context()));
}

export function askWholeNumber(message: string, { min, max, defaultAnswer }: { min: number; max: number; defaultAnswer: number }): Promise<number> {
  return answered(number({ message, min, max, step: 1, default: defaultAnswer, required: true }, context()));
}

export function askChoice<T>(message: string, choices: ReadonlyArray<Choice<T>>, defaultAnswer?: T): Promise<T> {
  return answered(select<T>({ message, choices, ...(defaultAnswer === undefined ? {} : { default: defaultAnswer }) }, context()));
}

/** `validate` returns undefined for an acceptable answer, else what is wrong with it (shown under the prompt). */
export function askText(message: string, validate: (text: string) => string | undefined | Promise<string | undefined>): Promise<string> {
  return answered(input({ message, validate: async (text) => (await validate(text)) ?? true }, context()));
}
