/** An SES v2 error as the wire carries it: `x-amzn-ErrorType` (the SDK's error name), status, `message`. */
export class SesError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
