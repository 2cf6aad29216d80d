/**
 * Every command's --help ends with examples, and an example never uses an option its command lacks: the examples are
 * checked against the options the built CLI's own help lists, so renaming a flag breaks this test, not a user's paste.
 */
import { describe, expect, it } from 'vitest';
import { rootlet } from '../support/cli.js';

/** The lines of a help section (`Options:`, `Commands:`, `Examples:`) up to the next blank line. */
function section(help: string, title: RegExp): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((line) => title.test(line));
  if (start === -1) return [];
  const end = lines.findIndex((line, index) => index > start && line.trim() === '');
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** The flags of an Options section: `-f, --file <path>` gives -f and --file (wrapped description lines are deeper). */
function optionFlags(help: string): string[] {
  return section(help, /^Options:$/)
    .filter((line) => /^ {2}-/.test(line))
    .flatMap((line) =>
      line
        .trim()
        .split(/\s{2,}/)[0]!
        .split(/[\s,]+/),
    )
    .filter((word) => word.startsWith('-'));
}

async function help(args: string[]): Promise<string> {
  const result = await rootlet([...args, '--help']);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout;
}

const top = await help([]);
const globalFlags = optionFlags(top);
// commander's own `help [command]` has no options and needs no examples.
const commands = section(top, /^Commands:$/)
  .map((line) => /^ {2}(\S+)/.exec(line)?.[1])
  .filter((name): name is string => name !== undefined && name !== 'help');
const flagsOf = new Map(await Promise.all(commands.map(async (name) => [name, [...optionFlags(await help([name])), ...globalFlags]] as const)));

/** The `rootlet ...` commands of an Examples section, without the explanation (after two spaces) or what is piped to. */
function exampleCommands(text: string): string[][] {
  return section(text, /^Examples?:$/)
    .map((line) => line.trim().split(/\s{2,}/)[0]!)
    .filter((line) => line.startsWith('rootlet '))
    .map((line) => {
      const words = line.split(/\s+/);
      const end = words.findIndex((word) => ['|', '>', '>>', '<', ';', '&&', '||'].includes(word));
      return end === -1 ? words : words.slice(0, end);
    });
}

describe('rootlet --help', () => {
  it('lists the commands', () => {
    expect(commands).toEqual(expect.arrayContaining(['doctor', 'up', 'join', 'down', 'status', 'ls', 'kubeconfig', 'completion']));
  });
});

describe.each(commands)('rootlet %s --help', (name) => {
  it('has examples, each using only options of the command it runs', async () => {
    const text = await help([name]);
    const examples = exampleCommands(text);
    expect(examples.length, `rootlet ${name} --help has no "Examples:" section with a "rootlet ..." line`).toBeGreaterThan(0);
    expect(examples.some((words) => words[1] === name)).toBe(true);
    for (const words of examples) {
      const command = words[1]!;
      expect(flagsOf.has(command), `${words.join(' ')}: no command ${command}`).toBe(true);
      for (const word of words.slice(2).filter((item) => item.startsWith('-') && item !== '-')) {
        expect(flagsOf.get(command), `${words.join(' ')}: rootlet ${command} has no option ${word}`).toContain(word.split('=')[0]);
      }
    }
  });
});
