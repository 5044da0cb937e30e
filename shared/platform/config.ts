/**
 * Configuration, read and validated once at cold start. A missing or malformed variable
 * throws a ConfigurationError naming it, so a misconfigured function fails loudly on its
 * first invocation instead of misbehaving. Endpoints are never configured here: the AWS SDK
 * reads AWS_ENDPOINT_URL_<SERVICE> itself, which is all the local stack changes.
 */
import * as z from 'zod';
import { ConfigurationError } from '../rules/errors';

export function readConfig<T extends z.ZodRawShape>(shape: T, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<T>> {
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** Variables shared by every function. */
export const baseConfigShape = {
  TABLE_NAME: z.string().min(1),
  // No default: a function that does not know its stage fails at cold start (the local stack sets `local`).
  STAGE: z.string().min(1),
};
