import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** Colour only for a terminal, and never with NO_COLOR (--json output never calls this). */
export function colorFor(stream: NodeJS.WriteStream): (style: Style, text: string) => string {
  const enabled = stream.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
  return enabled ? (style, text) => styleText(style, text) : (_style, text) => text;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
