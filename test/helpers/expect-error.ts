// A refused request as the API answers it: the status, and a JSON {error} that says what was wrong.
import assert from 'node:assert/strict';

export async function expectError(res: Promise<Response>, status: number, pattern: RegExp): Promise<void> {
  const r = await res;
  const body = (await r.json()) as { error: string };
  assert.equal(r.status, status, body.error);
  assert.match(body.error, pattern);
}
