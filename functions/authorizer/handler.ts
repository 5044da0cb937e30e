/**
 * TOKEN authorizer (identity source: the Authorization header). Bearer key → SHA-256 → one
 * GetItem. Allows the whole API (`…/stage/*\/*`) so API Gateway's cache (keyed by the token,
 * AUTHORIZER_CACHE_TTL_SECONDS) serves every route; the handlers check scope. Returns the
 * owner's API Gateway key value as usageIdentifierKey (apiKeySource AUTHORIZER), so API
 * Gateway applies the tenant's usage plan and answers 429 itself.
 * Any failure to authenticate throws 'Unauthorized', which API Gateway turns into a 401.
 */
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import * as z from 'zod';
import { findKeyByHash } from '../../shared/data/api-keys';
import { createDb } from '../../shared/data/db';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { logger } from '../../shared/platform/powertools';
import { bearerKey, hashApiKey } from '../../shared/rules/api-key';

const config = readConfig({ ...baseConfigShape, ADMIN_USAGE_IDENTIFIER_KEY: z.string().min(1).optional() });
const db = createDb(config.TABLE_NAME);

/** `arn:aws:execute-api:region:acct:apiId/stage/METHOD/path` → `…/apiId/stage/*\/*`. */
export function wholeApiArn(methodArn: string): string {
  const [prefix, rest] = [methodArn.slice(0, methodArn.lastIndexOf(':') + 1), methodArn.slice(methodArn.lastIndexOf(':') + 1)];
  const [apiId, stage] = rest.split('/');
  return `${prefix}${apiId}/${stage}/*/*`;
}

export async function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const key = bearerKey(event.authorizationToken);
  if (!key) throw new Error('Unauthorized');
  const found = await findKeyByHash(db, hashApiKey(key));
  if (!found || found.revoked) throw new Error('Unauthorized');
  const usageIdentifierKey = found.scope === 'admin' ? config.ADMIN_USAGE_IDENTIFIER_KEY : found.usageIdentifierKey;
  if (!usageIdentifierKey) logger.warn('key has no usage identifier key; API Gateway will refuse it', { keyId: found.keyId });
  return {
    principalId: found.scope === 'admin' ? `admin:${found.keyId}` : `tenant:${found.ownerTenantId}`,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApiArn(event.methodArn) }],
    },
    context: { scope: found.scope, tenantId: found.ownerTenantId ?? '', keyId: found.keyId },
    ...(usageIdentifierKey ? { usageIdentifierKey } : {}),
  };
}
