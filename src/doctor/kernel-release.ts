/** [major, minor, patch] of a kernel release such as "6.8.0-45-generic". */
export function parseKernelRelease(release: string): [number, number, number] {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!match) throw new Error(`cannot parse kernel release "${release}"`);
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const [have, haveMinor] = parseKernelRelease(release);
  return have > major || (have === major && haveMinor >= minor);
}
