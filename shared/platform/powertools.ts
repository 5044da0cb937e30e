/**
 * One logger and one metrics instance per function, created once at cold start, and the one
 * wrapper every Lambda handler goes through (`lambdaHandler`): middy with the Powertools
 * middlewares, so no handler adds the Lambda context to its logs or flushes metrics by hand.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';

export const SERVICE_NAME = 'mailmeter';

export const logger = new Logger({
  serviceName: SERVICE_NAME,
  logLevel: (process.env.LOG_LEVEL as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT' | undefined) ?? 'INFO',
});

// Its warnings (an invalid metric, say) go through the logger, so LOG_LEVEL governs them too.
export const metrics = new Metrics({ namespace: 'Mailmeter', serviceName: SERVICE_NAME, logger });

export interface LambdaHandlerOptions {
  /**
   * The handler records metrics: publish them when it returns or throws. Off by default,
   * because publishing an empty set logs a warning on every invocation. No `ColdStart` metric:
   * each is a custom metric ($0.30 a month per function) that no alarm or dashboard reads.
   */
  metrics?: boolean;
}

/**
 * Wraps a handler with middy: every log line carries the Lambda context (request id, function,
 * cold start), keys a handler appends do not leak into the next invocation, and, with
 * `metrics`, what it recorded is published even when it throws.
 */
export function lambdaHandler<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  options: LambdaHandlerOptions = {},
): MiddyfiedHandler<TEvent, TResult, Error, Context> {
  const wrapped = middy<TEvent, TResult, Error, Context>(handler).use(injectLambdaContext(logger, { resetKeys: true }));
  return options.metrics ? wrapped.use(logMetrics(metrics)) : wrapped;
}
