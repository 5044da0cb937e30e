import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/data/keys';
import { TABLE_DEFINITION } from '../../shared/data/table-definition';
import { useTestTable } from '../support/table';

describe('the table created from the shared definition in DynamoDB Local', () => {
  const t = useTestTable();

  it('has the key schema, GSI and stream of the definition', async () => {
    const out = await t.client.send(new DescribeTableCommand({ TableName: t.tableName }));
    expect(out.Table?.KeySchema).toEqual([
      { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' },
    ]);
    expect(out.Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['gsi1']);
    expect(out.Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  it('stores and reads an item by the keys module', async () => {
    await t.db.doc.send(new PutCommand({ TableName: t.tableName, Item: { ...keys.tenant('t1'), name: 'Acme' } }));
    const out = await t.db.doc.send(new GetCommand({ TableName: t.tableName, Key: keys.tenant('t1') }));
    expect(out.Item?.name).toBe('Acme');
  });
});
