/**
 * The addresses Shopify accepts for an HTTPS webhook subscription, with its
 * own `userErrors` messages (field `["webhookSubscription", "callbackUrl"]`).
 *
 * - `http://` is refused with "Address protocol http:// is not supported"
 *   (recorded: fixtures/shopify/captures/2026-04_webhooks_webhook-subscription-conformance.json,
 *   `updateValidation.updateHttpUri`), other unknown schemes the same way
 *   ("Address protocol kafka:// is not supported", same captures);
 * - an empty address: "Address can't be blank"; one that does not parse:
 *   "Address is invalid" (captures);
 * - an internal address (localhost, loopback, private, link-local): Shopify
 *   cannot reach it and answers "Address is invalid" (Shopify/shopify-api-js#194,
 *   a callback URL left on the app's local host; no capture records it).
 *
 * https://shopify.dev/docs/apps/build/webhooks/subscribe/https
 */
import { isIP } from 'node:net';

/** Schemes the unified `webhookSubscriptionCreate` takes besides https (Pub/Sub, EventBridge ARNs). */
const CLOUD_SCHEMES = new Set(['pubsub:', 'arn:']);

/** Why `host` is internal (unreachable from Shopify), or null. */
export function internalHostReason(host: string): string | null {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return 'localhost';
  if (h.endsWith('.local') || h.endsWith('.internal') || h.endsWith('.lan')) return 'a local network name';
  if (isIP(h) === 4) {
    const [a = -1, b = -1] = h.split('.').map(Number);
    if (a === 127) return 'a loopback address';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'a private address';
    if (a === 169 && b === 254) return 'a link-local address';
    if (a === 100 && b >= 64 && b <= 127) return 'a carrier-grade NAT address';
    if (a === 0) return 'an unroutable address';
  }
  if (isIP(h) === 6) {
    if (h === '::1' || h === '::') return 'a loopback address';
    if (/^f[cd]/.test(h)) return 'a private address';
    if (/^fe[89ab]/.test(h)) return 'a link-local address';
  }
  return null;
}

/**
 * Shopify's userError message for this subscription address, or null when
 * Shopify takes it. `allowLocal` (simulator only) accepts http:// and
 * internal hosts, for tests and the demo.
 */
export function shopifyAddressError(address: string | null | undefined, allowLocal = false): string | null {
  if (!address) return "Address can't be blank";
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    return 'Address is invalid';
  }
  if (CLOUD_SCHEMES.has(u.protocol)) return null;
  if (u.protocol === 'http:' && allowLocal) return null;
  if (u.protocol !== 'https:') return `Address protocol ${u.protocol}// is not supported`;
  if (!allowLocal && internalHostReason(u.hostname)) return 'Address is invalid';
  return null;
}
