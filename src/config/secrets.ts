// Secrets in settings are never shown: not to readonly users, not to admins, not in logs. Reads get the mask;
// a save that sends the mask back leaves the stored secret as it was.

export const SECRET_MASK = '********';

/** `mqtt://user:pass@host` → `mqtt://user:********@host`; URLs without a password are returned unchanged. */
export function maskUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, `$1:${SECRET_MASK}@`);
}

/** A URL as the client sent it, with a masked password replaced by the one stored in `previous`. */
export function unmaskUrlPassword(url: string, previous: string): string {
  const masked = /^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):\*{8}@/i;
  if (!masked.test(url)) return url;
  const old = /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:([^/@]*)@/i.exec(previous)?.[1];
  // no password stored before: the mask stands for nothing, so drop it
  return url.replace(masked, old === undefined ? '$1@' : `$1:${old}@`);
}

/** A URL for a log line: no user name or password at all. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}
