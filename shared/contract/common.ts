/**
 * Building blocks of the API contract: ids, pages, the response envelopes and the error body.
 * Every route's schemas (shared/contract/*.ts) are written once here and generate the OpenAPI
 * document (`npm run openapi`) and the SDK's types.
 */
import * as z from 'zod';

/** Every id this API hands out is a ULID (26 Crockford base32 characters). */
export const Id = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an id returned by this API');
export const Timestamp = z.string().meta({ description: 'ISO 8601, UTC', format: 'date-time' });
export const Count = z.number().int().min(0);

/** The `limit` and `cursor` fields of pageQuery, for a page query with filters of its own (GET /v1/jobs?status=). */
export function pageFields(maxLimit: number, defaultLimit: number) {
  return {
    limit: z
      .string()
      .regex(/^\d{1,4}$/, 'must be an integer')
      .transform(Number)
      .pipe(z.number().int().min(1).max(maxLimit))
      .optional()
      .meta({ description: `1–${maxLimit}, default ${defaultLimit}` }),
    cursor: Id.optional().meta({ description: 'the `nextCursor` of the previous page' }),
  };
}

/** `?limit=&cursor=` (query values are strings); `limit` defaults per route. */
export function pageQuery(maxLimit: number, defaultLimit: number) {
  return z
    .object(pageFields(maxLimit, defaultLimit))
    .strict()
    .transform((q) => ({ limit: q.limit ?? defaultLimit, ...(q.cursor ? { cursor: q.cursor } : {}) }));
}

/** `?limit=&cursor=` for pages whose cursor is an opaque encoded key (a GSI or a foreign partition), `limit` 1–100, default 50. */
export const OPAQUE_PAGE_FIELDS = {
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(100))
    .optional(),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,1000}$/, 'must be the nextCursor of the previous page').optional(),
};

/** Routes without query parameters still reject unknown ones, so typos are not ignored. */
export const NoQuery = z.object({}).strict();
export const IdPath = z.object({ id: Id });

/** Errors the API answers with; each is a class of the same name in shared/rules/errors.ts. */
export const ERROR_TYPES = {
  ValidationError: 400,
  AuthenticationError: 401,
  ForbiddenError: 403,
  SendingPausedError: 403,
  NotFoundError: 404,
  ConflictError: 409,
  IdempotencyError: 409,
  PayloadTooLargeError: 413,
  RateLimitError: 429,
  InternalError: 500,
} as const;
export type ErrorType = keyof typeof ERROR_TYPES;

export const ErrorBody = z
  .object({
    success: z.literal(false),
    error: z
      .object({
        type: z.enum(Object.keys(ERROR_TYPES) as [ErrorType, ...ErrorType[]]),
        message: z.string(),
        field: z.string().optional().meta({ description: 'the offending field as a dotted path (`recipients.3.to`), for ValidationError' }),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `{ success: true, data }` around a route's data schema. */
export function envelope<S extends z.ZodType>(data: S) {
  return z.object({ success: z.literal(true), data }).strict();
}
