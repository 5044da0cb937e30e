/**
 * The esbuild settings of every function, free of CDK imports so the bundle benchmark
 * (bench/bundles.ts) builds exactly what the house construct deploys.
 */
import type { FunctionName } from '../shared/contract/routes';

/**
 * NODE_OPTIONS of every deployed function. Source maps are built and shipped beside each bundle,
 * but Node does not load them at run time: under --enable-source-maps each cold start parses a
 * ~1 MB map (20–40 ms of the import here, bench/bundles.ts). Map a minified stack trace offline
 * with the .map instead.
 */
export const RUNTIME_NODE_OPTIONS: string = '';

export const ESBUILD_SETTINGS = {
  minify: true,
  sourcemap: true,
  // Maps without embedded sources: traces still name file and line, and the map is a third
  // of the size.
  sourcesContent: false,
  target: 'node22',
  platform: 'node',
  format: 'esm',
  // Lambda's Node 22 runtime ships an SDK, but bundling our own pins its version and lets
  // esbuild tree-shake it; no module is left external.
  external: [] as string[],
  mainFields: ['module', 'main'],
  // esbuild's ESM output has no `require`; some CommonJS dependencies still call it.
  banner: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
} as const;

/** Loaders per function: the web function inlines its built page as a string. */
export const FUNCTION_LOADERS: Partial<Record<FunctionName, Record<string, 'text'>>> = {
  web: { '.html': 'text' },
};

/** Builds web/dist/index.html, which the web function imports; run before bundling it. */
export const WEB_BUILD_COMMAND = 'npx tsx web/build.ts';
