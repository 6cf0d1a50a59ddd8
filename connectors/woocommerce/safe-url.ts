/**
 * WordPress's rule for the addresses it sends webhooks to.
 *
 * WooCommerce delivers webhooks (and the ping sent when one is created) with
 * `wp_safe_remote_request`, which refuses any URL `wp_http_validate_url`
 * rejects; the request then fails with WP_Error `http_request_failed`, "A
 * valid URL was not provided.", and nothing leaves the store. The rule
 * (WordPress 6.1, wp-includes/http.php):
 *
 * - http or https only, no user:password in the URL;
 * - a host other than the site's own must resolve (gethostbyname: IPv4) and
 *   must not be in 127/8, 10/8, 0/8, 172.16/12 or 192.168/16, unless a
 *   plugin's `http_request_host_is_external` filter says so;
 * - an explicit port must be 80, 443 or 8080 (`http_allowed_safe_ports`), or
 *   the site's own port on the site's own host.
 *
 * https://developer.wordpress.org/reference/functions/wp_http_validate_url/
 * Shared by the simulator (which refuses what WordPress refuses) and by
 * channelsync's webhook check (which names the rule a PUBLIC_URL breaks).
 */
import { lookup } from 'node:dns/promises';

/** Which part of the rule an address breaks. */
export type WordPressUrlRule = 'invalid' | 'protocol' | 'credentials' | 'dns' | 'private' | 'port';

export interface WordPressUrlRefusal {
  rule: WordPressUrlRule;
  /** The broken rule in plain words, naming the address's part. */
  detail: string;
}

/** What `http_request_host_is_external` and `http_allowed_safe_ports` filters would allow. */
export interface WordPressUrlFilters {
  /** A plugin treats private hosts as external (the filter returns true). Default false. */
  allowPrivateHosts?: boolean;
  /** A plugin allows every port. Default false: 80, 443, 8080 and the site's own. */
  allowAnyPort?: boolean;
  /** Name resolution, replaceable in tests; default the system resolver (IPv4, like gethostbyname). */
  resolve?: (host: string) => Promise<string | null>;
}

/** The ports `http_allowed_safe_ports` allows by default. */
export const WORDPRESS_SAFE_PORTS = [80, 443, 8080] as const;

const IPV4 = /^(([1-9]?\d|1\d\d|25[0-5]|2[0-4]\d)\.){3}([1-9]?\d|1\d\d|25[0-5]|2[0-4]\d)$/;

async function systemResolve(host: string): Promise<string | null> {
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    return null;
  }
}

/** The private range WordPress 6.1 refuses `ip` for, or null. */
export function wordpressPrivateRange(ip: string): string | null {
  const [a = -1, b = -1] = ip.split('.').map(Number);
  if (a === 127) return '127.0.0.0/8, loopback';
  if (a === 10) return '10.0.0.0/8';
  if (a === 0) return '0.0.0.0/8';
  if (a === 172 && b >= 16 && b <= 31) return '172.16.0.0/12';
  if (a === 192 && b === 168) return '192.168.0.0/16';
  return null;
}

/**
 * Why WordPress would refuse to send to `url` from the site at `homeUrl`, or
 * null when it would send. WordPress stops at the first rule broken.
 */
export async function wordpressUrlRefusal(url: string, homeUrl: string, filters: WordPressUrlFilters = {}): Promise<WordPressUrlRefusal | null> {
  return (await refusals(url, homeUrl, filters, true))[0] ?? null;
}

/** Every rule `url` breaks (a host and a port can both be wrong), so that one fix is enough. */
export function wordpressUrlRefusals(url: string, homeUrl: string, filters: WordPressUrlFilters = {}): Promise<WordPressUrlRefusal[]> {
  return refusals(url, homeUrl, filters, false);
}

async function refusals(url: string, homeUrl: string, filters: WordPressUrlFilters, first: boolean): Promise<WordPressUrlRefusal[]> {
  const out: WordPressUrlRefusal[] = [];
  const refuse = (r: WordPressUrlRefusal) => (out.push(r), first);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [{ rule: 'invalid', detail: `${url} is not a URL` }];
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return [{ rule: 'protocol', detail: `WordPress sends only to http:// and https:// addresses, not ${u.protocol}//` }];
  if (u.username || u.password) {
    if (refuse({ rule: 'credentials', detail: 'WordPress refuses addresses with a user name or password in them' })) return out;
  }
  let home: URL | null = null;
  try {
    home = new URL(homeUrl);
  } catch {
    home = null;
  }
  // IPv6 literals are refused too: WordPress rejects hosts containing ':#?[]'.
  if (/[:#?[\]]/.test(u.hostname)) return [...out, { rule: 'invalid', detail: `WordPress refuses the IPv6 address ${u.hostname}; use a host name` }];
  const host = u.hostname.replace(/^\.+|\.+$/g, '');
  const sameHost = home !== null && home.hostname.toLowerCase() === host.toLowerCase();
  if (!sameHost) {
    const ip = IPV4.test(host) ? host : await (filters.resolve ?? systemResolve)(host);
    if (ip === null) return [...out, { rule: 'dns', detail: `the host ${host} does not resolve in DNS, so WordPress cannot send to it` }];
    const range = wordpressPrivateRange(ip);
    if (range && !filters.allowPrivateHosts) {
      const detail = `the host ${host}${ip === host ? '' : ` (${ip})`} is a private address (${range}): WordPress refuses to send webhooks to private or loopback hosts`;
      if (refuse({ rule: 'private', detail })) return out;
    }
  }
  if (u.port === '' || filters.allowAnyPort) return out;
  const port = Number(u.port);
  if ((WORDPRESS_SAFE_PORTS as readonly number[]).includes(port)) return out;
  const homePort = home ? Number(home.port || (home.protocol === 'https:' ? 443 : 80)) : null;
  if (sameHost && homePort === port) return out;
  out.push({ rule: 'port', detail: `port ${port}: WordPress sends webhooks only to ports ${WORDPRESS_SAFE_PORTS.join(', ')} (or the store's own port on its own host)` });
  return out;
}
