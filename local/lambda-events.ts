/**
 * Builders for the exact event shapes Lambda hands the functions on AWS (SQS event source
 * mapping, SNS subscription, EventBridge schedule, API Gateway REST proxy integration and
 * TOKEN authorizer), plus a Lambda context. The local stack invokes the production handlers
 * with these, so a handler cannot tell it is running locally.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type {
  APIGatewayProxyEvent,
  APIGatewayTokenAuthorizerEvent,
  Context,
  ScheduledEvent,
  SNSEvent,
  SNSEventRecord,
  SNSMessageAttributes,
  SQSEvent,
  SQSMessageAttributes,
  SQSRecord,
} from 'aws-lambda';

/** The account id fauxqs puts in every ARN; used for the ARNs the local stack makes up too. */
export const LOCAL_ACCOUNT_ID = '000000000000';
/** A made-up REST API id and stage name for API Gateway events and method ARNs. */
export const LOCAL_API_ID = 'local';
export const LOCAL_API_STAGE = 'local';

export function lambdaContext(functionName: string, region: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function sqsAttributesOf(attrs: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(attrs ?? {})) {
    // Lambda delivers binary values base64-encoded and always includes both list arrays.
    out[name] = {
      dataType: v.DataType ?? 'String',
      stringValue: v.StringValue,
      binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : undefined,
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}

/** One SQS message as received with `MessageSystemAttributeNames: ['All']` → one Lambda SQS record. */
export function sqsRecordOf(message: Message, queueArn: string, region: string): SQSRecord {
  const a = message.Attributes ?? {};
  const body = message.Body ?? '';
  return {
    messageId: message.MessageId ?? randomUUID(),
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? LOCAL_ACCOUNT_ID,
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.AWSTraceHeader ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
    },
    messageAttributes: sqsAttributesOf(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? createHash('md5').update(body).digest('hex'),
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export function sqsEventOf(messages: readonly Message[], queueArn: string, region: string): SQSEvent {
  return { Records: messages.map((m) => sqsRecordOf(m, queueArn, region)) };
}

/** The SNS notification envelope, as SNS delivers it to an SQS queue without raw delivery. */
export interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string | null;
  Message: string;
  Timestamp: string;
  SignatureVersion?: string;
  Signature?: string;
  SigningCertURL?: string;
  UnsubscribeURL?: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** One SNS notification envelope → the Lambda SNSEvent record SNS would invoke the function with. */
export function snsRecordOf(envelope: SnsEnvelope, subscriptionArn: string): SNSEventRecord {
  const attributes: SNSMessageAttributes = {};
  for (const [name, v] of Object.entries(envelope.MessageAttributes ?? {})) attributes[name] = { Type: v.Type, Value: v.Value };
  return {
    EventVersion: '1.0',
    EventSubscriptionArn: subscriptionArn,
    EventSource: 'aws:sns',
    Sns: {
      SignatureVersion: envelope.SignatureVersion ?? '1',
      Timestamp: envelope.Timestamp,
      Signature: envelope.Signature ?? 'local',
      SigningCertUrl: envelope.SigningCertURL ?? '',
      MessageId: envelope.MessageId,
      Message: envelope.Message,
      MessageAttributes: attributes,
      Type: envelope.Type,
      UnsubscribeUrl: envelope.UnsubscribeURL ?? '',
      TopicArn: envelope.TopicArn,
      Subject: envelope.Subject ?? undefined,
    },
  };
}

/** SNS invokes a Lambda subscriber with exactly one record per event. */
export function snsEventOf(envelope: SnsEnvelope, subscriptionArn: string): SNSEvent {
  return { Records: [snsRecordOf(envelope, subscriptionArn)] };
}

/** The EventBridge scheduled-rule event (`rate(...)` rules). */
export function scheduledEventOf(ruleName: string, region: string, at = new Date()): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT_ID,
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:${LOCAL_ACCOUNT_ID}:rule/${ruleName}`],
    detail: {},
  };
}

export function methodArnOf(region: string, method: string, path: string): string {
  return `arn:aws:execute-api:${region}:${LOCAL_ACCOUNT_ID}:${LOCAL_API_ID}/${LOCAL_API_STAGE}/${method}${path}`;
}

export function tokenAuthorizerEventOf(authorizationToken: string, methodArn: string): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken, methodArn };
}

export interface ProxyRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/jobs/01H…`. */
  path: string;
  /** Resource template matched, e.g. `/v1/jobs/{id}`. */
  resource: string;
  pathParameters: Record<string, string>;
  /** Raw header pairs as node:http gives them (`rawHeaders`), to keep repeated headers. */
  rawHeaders: readonly string[];
  searchParams: URLSearchParams;
  body: string | null;
  sourceIp: string;
  /** What the authorizer returned as `context` plus `principalId`; undefined for public routes. */
  authorizer?: Record<string, string | number | boolean | null>;
  now?: Date;
}

/** The REST API (v1) proxy-integration event API Gateway sends to the route's function. */
export function apiGatewayProxyEventOf(req: ProxyRequest, region: string): APIGatewayProxyEvent {
  // Names come from the client, so `constructor` or `__proto__` must be plain keys: collect in
  // Maps and build the objects with Object.fromEntries, which defines own properties, as the
  // JSON.parse of the event does on AWS.
  const headerMap = new Map<string, string>();
  const multiHeaderMap = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    // API Gateway keeps the last value in `headers` and every value in `multiValueHeaders`.
    headerMap.set(name, value);
    multiHeaderMap.set(name, [...(multiHeaderMap.get(name) ?? []), value]);
  }
  const queryMap = new Map<string, string>();
  const multiQueryMap = new Map<string, string[]>();
  for (const [k, v] of req.searchParams) {
    queryMap.set(k, v);
    multiQueryMap.set(k, [...(multiQueryMap.get(k) ?? []), v]);
  }
  const headers: Record<string, string> = Object.fromEntries(headerMap);
  const multiValueHeaders: Record<string, string[]> = Object.fromEntries(multiHeaderMap);
  const query: Record<string, string> = Object.fromEntries(queryMap);
  const multiQuery: Record<string, string[]> = Object.fromEntries(multiQueryMap);
  const hasQuery = Object.keys(query).length > 0;
  const hasPathParams = Object.keys(req.pathParameters).length > 0;
  const now = req.now ?? new Date();
  const userAgent = headerMap.get('User-Agent') ?? headerMap.get('user-agent') ?? null;
  return {
    resource: req.resource,
    path: req.path,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: hasPathParams ? { ...req.pathParameters } : null,
    stageVariables: null,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: LOCAL_API_ID,
      authorizer: req.authorizer ? { ...req.authorizer, integrationLatency: 0 } : undefined,
      domainName: headerMap.get('Host') ?? headerMap.get('host') ?? 'localhost',
      domainPrefix: 'localhost',
      extendedRequestId: randomUUID(),
      httpMethod: req.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${LOCAL_API_STAGE}${req.path}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: req.resource,
      stage: LOCAL_API_STAGE,
    },
    body: req.body,
    isBase64Encoded: false,
  };
}
