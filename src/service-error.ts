/** An error a service raises for the caller to see, with the HTTP status the API answers it with. */
export class ServiceError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 415 | 500 | 507,
    message: string,
  ) {
    super(message);
  }
}
