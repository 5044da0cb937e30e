import { defineConfig } from 'vitest/config';

/**
 * A green run is quiet (STYLE.md 12): what tests print is shown only for a test that fails.
 * - LOG_LEVEL: handlers log every untagged or malformed event they are fed on purpose.
 * - POWERTOOLS_DEV: Powertools writes through the global console (not its own Console on
 *   process.stdout), so vitest captures its logs like any other console output.
 * - The AWS SDK warns in every process that makes a client (each test file's worker, the global
 *   setup, a spawned `npm start`) that it will need Node 22 from 2027: hundreds of lines a run.
 *   Set here, in the main process, so every process vitest starts inherits it.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const quiet = {
  silent: 'passed-only' as const,
  // Functions have no default stage (only the local stack and the CDK stack name one).
  env: { LOG_LEVEL: 'ERROR', POWERTOOLS_DEV: 'true', STAGE: 'test' },
};

export default defineConfig({
  test: {
    // The reporter reads this from the root config; each project's workers from their own.
    silent: quiet.silent,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', ...quiet } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup-dynamodb.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          ...quiet,
        },
      },
      { test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, ...quiet } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          ...quiet,
        },
      },
    ],
  },
});
