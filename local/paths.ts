/** Where the local stack keeps its state: `.local/` in the repo unless MAILMETER_LOCAL_DIR says otherwise. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Environment variable that moves the data directory (tests point it at a temp folder). */
export const DATA_DIR_ENV = 'MAILMETER_LOCAL_DIR';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[DATA_DIR_ENV];
  return fromEnv ? resolve(fromEnv) : join(REPO_ROOT, '.local');
}

export function stackJsonPath(dataDir: string): string {
  return join(dataDir, 'stack.json');
}

export function dynamoDataPath(dataDir: string): string {
  return join(dataDir, 'dynamodb');
}
