import { describe, expect, it } from 'vitest';
import { messageItemFilter, toLambdaRecord } from '../../../local/stream-poller';

describe('stream records as Lambda delivers them', () => {
  it('converts the SDK record to the Lambda event shape', () => {
    const r = toLambdaRecord(
      {
        eventID: 'e1',
        eventName: 'MODIFY',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        dynamodb: {
          ApproximateCreationDateTime: new Date('2026-01-01T00:00:10.900Z'),
          Keys: { pk: { S: 'MSG#m' }, sk: { S: 'MSG' } },
          NewImage: { kind: { S: 'message' }, blob: { B: new Uint8Array([1, 2, 3]) }, n: { N: '5' } },
          SequenceNumber: '100000000000000000001',
          SizeBytes: 42,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      },
      'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026',
      'us-east-1',
    );
    expect(r).toEqual({
      eventID: 'e1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: 1767225610,
        Keys: { pk: { S: 'MSG#m' }, sk: { S: 'MSG' } },
        NewImage: { kind: { S: 'message' }, blob: { B: 'AQID' }, n: { N: '5' } },
        SequenceNumber: '100000000000000000001',
        SizeBytes: 42,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026',
    });
    expect(messageItemFilter(r)).toBe(true);
    expect(messageItemFilter({ ...r, dynamodb: { ...r.dynamodb, NewImage: { kind: { S: 'counter' } } } })).toBe(false);
  });
});
