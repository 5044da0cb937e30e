/**
 * Attachments of a job. Each is stored once, where the sender reads it: small ones inside the
 * job item's `content` (DynamoDB binary, raw bytes), the others as one object each in the
 * attachment bucket under `attachments/<tenantId>/<jobId>/<index>`. The bucket's lifecycle rule
 * expires what a crash left behind; the sender deletes a job's objects, and drops the inline
 * bytes from the job item, once the job has finished (send-batch.ts).
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Db } from './db';
import { keys } from './keys';

/** One attachment as the job item keeps it: `data` (inline) or `objectKey` (the bucket). */
export interface StoredAttachment {
  filename: string;
  contentType?: string;
  contentId?: string;
  /** Decoded bytes. */
  size: number;
  data?: Uint8Array;
  objectKey?: string;
}

/** Where the attachment objects live (the stage's attachment bucket). */
export interface AttachmentStore {
  s3: S3Client;
  bucket: string;
}

export const ATTACHMENT_PREFIX = 'attachments/';

/** The stage's attachment bucket, read at cold start by the functions that store or send attachments. */
export const attachmentConfigShape = { ATTACHMENT_BUCKET: z.string().min(1) };

export function attachmentObjectKey(tenantId: string, jobId: string, index: number): string {
  return `${ATTACHMENT_PREFIX}${tenantId}/${jobId}/${index}`;
}

export async function putAttachmentObject(store: AttachmentStore, objectKey: string, bytes: Uint8Array): Promise<void> {
  await store.s3.send(
    new PutObjectCommand({ Bucket: store.bucket, Key: objectKey, Body: bytes, ContentLength: bytes.byteLength, ContentType: 'application/octet-stream' }),
  );
}

/** The object's bytes; undefined when it is gone (deleted, or expired by the lifecycle rule). */
export async function getAttachmentObject(store: AttachmentStore, objectKey: string): Promise<Uint8Array | undefined> {
  try {
    const out = await store.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: objectKey }));
    return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** Deletes objects (S3 answers success for a key that is already gone). */
export async function deleteAttachmentObjects(store: AttachmentStore, objectKeys: readonly string[]): Promise<void> {
  await Promise.all(objectKeys.map((Key) => store.s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key }))));
}

/** A finished job keeps no attachment bytes: removes `content.attachments` from its item. */
export async function dropJobAttachments(db: Db, tenantId: string, jobId: string): Promise<void> {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.job(tenantId, jobId),
        UpdateExpression: 'REMOVE #c.#a',
        // Never create an item for a job that is gone (an offboarded tenant's).
        ConditionExpression: 'attribute_exists(#c.#a)',
        ExpressionAttributeNames: { '#c': 'content', '#a': 'attachments' },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}
