/**
 * The AWS SDK clients of a function, each created once per execution environment, on first use
 * (so a function bundles and constructs only the clients it calls, and a test can set its
 * endpoints before the first call). Endpoints are never set here: the SDK reads
 * AWS_ENDPOINT_URL_<SERVICE>, which is all the local stack changes. (No SNS or CloudWatch client:
 * functions only receive from SNS, and metrics go out as EMF through shared/platform/powertools.ts.)
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

let documentClient: DynamoDBDocumentClient | undefined;
const tables = new Map<string, { readonly doc: DynamoDBDocumentClient; readonly tableName: string }>();
let sqs: SQSClient | undefined;
let sesForSending: SESv2Client | undefined;
let ses: SESv2Client | undefined;
let apiGateway: APIGatewayClient | undefined;
let s3: S3Client | undefined;
let scheduler: SchedulerClient | undefined;

export function dynamoDbDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return documentClient;
}

/** A table's handle for the data layer (the shape of shared/data/db.ts's Db), sharing one client. */
export function tableClient(tableName: string): { readonly doc: DynamoDBDocumentClient; readonly tableName: string } {
  let table = tables.get(tableName);
  if (!table) {
    table = { doc: dynamoDbDocumentClient(), tableName };
    tables.set(tableName, table);
  }
  return table;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}

/**
 * SES v2 for SendEmail. maxAttempts 1: the SDK must not retry on its own — a retry after a
 * timeout could send twice, and retries on throttling would bypass the shared pacer. The sender
 * retries what is safe (docs/sending.md, "SES errors").
 */
export function sesSendingClient(): SESv2Client {
  sesForSending ??= new SESv2Client({ maxAttempts: 1, requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000 } });
  return sesForSending;
}

/** SES v2 for reads (GetAccount), with the SDK's default retries. */
export function sesClient(): SESv2Client {
  ses ??= new SESv2Client({});
  return ses;
}

export function apiGatewayClient(): APIGatewayClient {
  apiGateway ??= new APIGatewayClient({});
  return apiGateway;
}

/** S3 for the usage exports (put, and the pre-signed download URL) and the attachment bucket. */
export function s3Client(): S3Client {
  s3 ??= new S3Client({});
  return s3;
}

/** EventBridge Scheduler for the one-time schedules of scheduled sends (shared/platform/job-scheduler.ts). */
export function schedulerClient(): SchedulerClient {
  scheduler ??= new SchedulerClient({});
  return scheduler;
}
