import { ValidationError } from './errors.js';

/** The longest name DNS allows. */
const MAX_NAME_LENGTH = 253;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function isHostName(host: string): boolean {
  if (host.length > MAX_NAME_LENGTH) return false;
  const labels = host.split('.');
  // A name of digits and dots only is an IP address or nothing.
  return labels.every((label) => LABEL.test(label)) && !/^[\d.]+$/.test(host);
}

function isIpv6(host: string): boolean {
  if (!/^[0-9a-f:.]+$/.test(host) || !host.includes(':')) return false;
  try {
    return new URL(`http://[${host}]/`).hostname !== '';
  } catch {
    return false;
  }
}

/** One entry as the sandbox's network allow-list takes it: lower case, IPv6 without brackets. */
function normalizeDomain(entry: string, field: string): string {
  const host = entry
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  const name = host.startsWith('*.') ? host.slice(2) : host;
  const ok = host.startsWith('*.') ? isHostName(name) : isHostName(host) || IPV4.test(host) || isIpv6(host);
  if (!ok)
    throw ValidationError.field(field, 'must be a host name (example.com, or *.example.com for its subdomains) or an IP address, without scheme, port or path');
  return host;
}

/** Checks the hosts tool commands may reach; returns them normalized, each once. */
export function normalizeAllowedDomains(entries: readonly string[]): string[] {
  return [...new Set(entries.map((entry, i) => normalizeDomain(entry, `allowedDomains[${i}]`)))];
}
