import { execa } from 'execa';

/** vitest globalSetup for the CLI tests: they run the bundle a user would run. */
export default async function setup(): Promise<void> {
  await execa('node', ['scripts/build.mjs'], { stdio: 'inherit' });
}
