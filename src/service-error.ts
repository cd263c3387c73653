/** What went wrong, in the domain's words: each surface says it its own way (an HTTP status, an MQTT log line, a
 * push reply). */
export type ErrorKind = 'invalid' | 'forbidden' | 'not-found' | 'conflict' | 'too-large' | 'unsupported' | 'failed' | 'no-space';

const KIND_OF_STATUS = { 400: 'invalid', 403: 'forbidden', 404: 'not-found', 409: 'conflict', 413: 'too-large', 415: 'unsupported', 500: 'failed', 507: 'no-space' } as const;
const STATUS_OF_KIND = Object.fromEntries(Object.entries(KIND_OF_STATUS).map(([s, k]) => [k, Number(s)])) as Record<ErrorKind, ServiceError['status']>;

/** An error a service raises for the caller to see: its kind, and the HTTP status the API answers it with. */
export class ServiceError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 415 | 500 | 507,
    message: string,
  ) {
    super(message);
  }

  get kind(): ErrorKind {
    return KIND_OF_STATUS[this.status];
  }

  static of(kind: ErrorKind, message: string): ServiceError {
    return new ServiceError(STATUS_OF_KIND[kind], message);
  }
}
