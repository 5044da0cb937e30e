import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableClient } from '../platform/aws-clients';

/** What every data-layer function needs: a document client and the table's name. */
export interface Db {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
}

export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/**
 * Without `config`, the table's handle on the process's one DynamoDB client (aws-clients.ts), as
 * every function uses it; with `config`, a client of its own (tools that pick an endpoint or
 * region: the admin CLI, the local stack's seeding, tests).
 */
export function createDb(tableName: string, config?: DynamoDBClientConfig): Db {
  return config ? { doc: createDocumentClient(config), tableName } : tableClient(tableName);
}
