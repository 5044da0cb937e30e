/**
 * Loads the production handlers (`functions/<name>/handler.ts`, export `handler`) and invokes
 * them like the Lambda runtime does: one context per invocation, errors propagate to the
 * caller (the poller or the API server decides what a failure means, as the event source does
 * on AWS). Handlers are imported only after the stack has set the environment, because each
 * one reads its configuration once at cold start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionName } from '../shared/contract/routes';
import { lambdaContext } from './lambda-events';
import { REPO_ROOT } from './paths';

/** Events differ per function; the caller builds the right shape for the function it invokes. */
export type LambdaHandler = (event: never, context: import('aws-lambda').Context) => Promise<unknown>;

export interface LoadedFunction {
  name: FunctionName;
  invoke(event: unknown): Promise<unknown>;
}

export function handlerPath(name: string): string {
  return join(REPO_ROOT, 'functions', name, 'handler.ts');
}

export function functionExists(name: string): boolean {
  return existsSync(handlerPath(name));
}

/** Imports a function's handler; undefined when the function has not been written yet. */
export async function loadFunction(name: FunctionName, region: string): Promise<LoadedFunction | undefined> {
  if (!functionExists(name)) return undefined;
  const mod = (await import(pathToFileURL(handlerPath(name)).href)) as { handler?: unknown };
  if (typeof mod.handler !== 'function') throw new Error(`functions/${name}/handler.ts has no exported handler`);
  const handler = mod.handler as LambdaHandler;
  return {
    name,
    invoke: (event) => handler(event as never, lambdaContext(`mailmeter-local-${name}`, region)),
  };
}
