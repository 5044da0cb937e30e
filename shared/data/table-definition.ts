/**
 * The one definition of Mailmeter's single table. The CDK stack (infra/), DynamoDB Local
 * (local/) and every test create the table from this object, so they can never drift apart.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const TABLE_DEFINITION = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Time-to-live attribute, epoch seconds. */
  ttlAttribute: 'expiresAt',
  /** The counter aggregator consumes this stream (see docs/data-model.md). */
  streamViewType: 'NEW_AND_OLD_IMAGES',
  globalSecondaryIndexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
} as const;

export type GsiName = (typeof TABLE_DEFINITION.globalSecondaryIndexes)[number]['indexName'];

/** CreateTable input for the SDK (DynamoDB Local and tests); on-demand like production. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const d = TABLE_DEFINITION;
  const gsiAttributes = d.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey]);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [d.partitionKey, d.sortKey, ...gsiAttributes].map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    KeySchema: [
      { AttributeName: d.partitionKey, KeyType: 'HASH' },
      { AttributeName: d.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: d.globalSecondaryIndexes.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: d.streamViewType },
  };
}
