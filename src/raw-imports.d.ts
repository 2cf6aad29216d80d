/** Template files bundled as text (esbuild: the ?raw suffix plugin in scripts/build.mjs; vitest: Vite's ?raw). */
declare module '*?raw' {
  const text: string;
  export default text;
}
