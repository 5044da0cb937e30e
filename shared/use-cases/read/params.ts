/** zod schemas shared by the read and admin routes' query strings and path parameters. */
import * as z from 'zod';

/** Every id this API hands out is a ULID (26 Crockford base32 characters). */
export const idSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an id returned by this API');

export function pageQuery(maxLimit: number, defaultLimit: number) {
  return z
    .object({
      limit: z
        .string()
        .regex(/^\d{1,4}$/, 'must be an integer')
        .transform(Number)
        .pipe(z.number().int().min(1).max(maxLimit))
        .optional(),
      cursor: idSchema.optional(),
    })
    .strict()
    .transform((q) => ({ limit: q.limit ?? defaultLimit, ...(q.cursor ? { cursor: q.cursor } : {}) }));
}

/** Routes without query parameters still reject unknown ones, so typos are not ignored. */
export const noQuery = z.object({}).strict();
