// DNS rebinding: a web page on evil.example can point its own name at a LAN address and then talk to Gantry as
// "same origin". The browser still sends evil.example as Host, so routes that act without any credential (the
// first-run setup) answer only to names that are Gantry's own.
import { hostname } from 'node:os';
import { isIP } from 'node:net';

/**
 * Accepted: IP literals, `localhost`, mDNS names (`*.local`), this machine's host name, and the operator's list
 * (`server.allowedHosts`: exact names, or `*.example.lan` for a domain and its subdomains).
 */
export function isAllowedHost(hostHeader: string | undefined, allowed: readonly string[], machine = hostname()): boolean {
  if (!hostHeader) return false;
  const name = hostOnly(hostHeader);
  if (name === undefined) return false;
  if (isIP(name) !== 0) return true;
  if (name === 'localhost' || name.endsWith('.localhost') || name.endsWith('.local')) return true;
  if (name === machine.toLowerCase()) return true;
  return allowed.some((a) => {
    const rule = a.trim().toLowerCase().replace(/\.$/, '');
    if (rule.startsWith('*.')) return name === rule.slice(2) || name.endsWith(rule.slice(1));
    return rule !== '' && name === rule;
  });
}

/** `Host` without its port, lower case, without a trailing dot; v6 literals without brackets. */
function hostOnly(header: string): string | undefined {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : undefined;
  }
  const name = h.replace(/:\d+$/, '').replace(/\.$/, '');
  return /^[a-z0-9.-]+$/.test(name) ? name : undefined;
}
