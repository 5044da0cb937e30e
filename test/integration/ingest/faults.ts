/**
 * Crash injection on the real client: a middleware that makes the N-th matching command fail
 * either before it reaches DynamoDB (nothing written) or after DynamoDB applied it (written, but
 * the caller sees an error: the case a crash between two writes produces).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../../../shared/data/db';
import { dynamoClientConfig } from '../../support/table';

export type FaultPlan = (commandName: string, nth: number) => 'before' | 'after' | 'cancel' | undefined;

export function faultyDb(tableName: string, plan: FaultPlan) {
  const client = new DynamoDBClient({ ...dynamoClientConfig(), maxAttempts: 1 });
  const seen = new Map<string, number>();
  const injected: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      const nth = (seen.get(name) ?? 0) + 1;
      seen.set(name, nth);
      const fault = plan(name, nth);
      if (fault) injected.push(`${fault} ${name} #${nth}`);
      if (fault === 'before') throw new Error(`injected crash before ${name} #${nth}`);
      if (fault === 'cancel') {
        // Make DynamoDB itself cancel the transaction: a condition on the first counter update that cannot hold.
        const input = args.input as { TransactItems?: { Update?: { ConditionExpression?: string } }[] };
        const first = input.TransactItems?.[0]?.Update;
        if (first) first.ConditionExpression = 'attribute_exists(injectedCancellation)';
      }
      const out = await next(args);
      if (fault === 'after') throw new Error(`injected crash after ${name} #${nth}`);
      return out;
    },
    { step: 'initialize', name: 'injectFaults' },
  );
  const db: Db = { doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), tableName };
  return { db, injected, destroy: () => client.destroy() };
}
