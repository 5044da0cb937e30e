/**
 * A fresh table per test file, created from the same definition the CDK stack uses
 * (shared/data/table-definition.ts), and deleted when the file is done.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Db } from '../../shared/data/db';
import { createTableInput } from '../../shared/data/table-definition';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';

export function dynamoClientConfig() {
  return { endpoint: inject('dynamoEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}

export async function createTable(endpoint: string, tableName = `test-${randomUUID()}`) {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  const db: Db = {
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tableName,
  };
  return {
    db,
    client,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}

/**
 * Registers beforeAll/afterAll hooks and returns a handle whose `db` is ready inside tests.
 * Also sets TABLE_NAME and AWS_ENDPOINT_URL_DYNAMODB so handlers imported after beforeAll
 * (dynamic import) talk to this table.
 */
export function useTestTable() {
  const handle = {} as { db: Db; client: DynamoDBClient; tableName: string; endpoint: string };
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const endpoint = inject('dynamoEndpoint');
    const t = await createTable(endpoint);
    handle.db = t.db;
    handle.client = t.client;
    handle.tableName = t.db.tableName;
    handle.endpoint = endpoint;
    drop = t.drop;
    process.env.TABLE_NAME = t.db.tableName;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
    process.env.AWS_REGION = LOCAL_REGION;
    process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  });
  afterAll(async () => {
    await drop?.();
  });
  return handle;
}
