/**
 * eBay's HTTP message signatures, which issueRefund (and the Finances API) needs
 * for sellers domiciled in the EU or the UK
 * (https://developer.ebay.com/develop/guides/digital-signatures-for-apis, and the
 * README of eBay/digital-signature-verification-ebay-api, whose test vector
 * test/connectors/ebay/refunds.test.ts replays).
 *
 * The profile of RFC 9421 eBay verifies, in full:
 * - `Content-Digest: sha-256=:<base64 SHA-256 of the body bytes>:` (RFC 9530), only when
 *   there is a body; a single SHA-256 digest is all eBay takes.
 * - `x-ebay-signature-key: <the JWE>` that createSigningKey returned with the key pair.
 * - `Signature-Input: sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created=<unix s>`
 *   (without "content-digest" when there is no body).
 * - `Signature: sig1=:<base64 signature>:` over the signature base: one line
 *   `"<component>": <value>` per covered component, then
 *   `"@signature-params": (<the same list>);created=<unix s>`, lines joined by "\n" and no
 *   trailing newline. Ed25519 (eBay's recommendation) or RSASSA-PKCS1-v1_5 with SHA-256.
 *
 * Signing is always on for issueRefund, whatever the marketplace: the guide says eBay
 * ignores signatures on calls and sellers that do not need them, and a marketplace id
 * does not tell where a seller is domiciled (a UK seller may list on EBAY_US).
 *
 * Node's crypto does all of it; no library (the SDKs eBay publishes for Node wrap the
 * same few lines and bring their own HTTP stacks).
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** The components eBay's guide lists, in its order. */
const COMPONENTS_WITH_BODY = ['content-digest', 'x-ebay-signature-key', '@method', '@path', '@authority'] as const;
const COMPONENTS_WITHOUT_BODY = COMPONENTS_WITH_BODY.slice(1);

/** A key pair as the Key Management API returns it (SigningKey), private key included. */
export interface SigningKey {
  signingKeyId: string;
  /** The public key as JWE: the value of `x-ebay-signature-key`. */
  jwe: string;
  /** PKCS#8, PEM or bare base64 DER (createSigningKey's form). */
  privateKey: string;
  signingKeyCipher: string;
  /** Unix seconds (eBay: three years after creation). */
  expirationTime?: number;
}

/** `sha-256=:<base64>:` of exactly these bytes. */
export function contentDigest(body: string | Buffer): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

export interface SignedParts {
  method: string;
  /** The full URL the request goes to; `@path` and `@authority` are read from it. */
  url: string;
  /** The body bytes exactly as sent, when there is one. */
  body?: string;
}

/** The signature base of RFC 9421 section 2.5 for eBay's component list. */
export function signatureBase(parts: SignedParts, headers: Record<string, string>, components: readonly string[], params: string): string {
  const url = new URL(parts.url);
  const lines = components.map((c) => {
    const value =
      c === '@method' ? parts.method.toUpperCase() : c === '@path' ? url.pathname : c === '@authority' ? url.host : headers[c];
    if (value === undefined) throw new Error(`the signature covers ${c}, which the request does not carry`);
    return `"${c}": ${value}`;
  });
  lines.push(`"@signature-params": ${params}`);
  return lines.join('\n');
}

function signatureParams(components: readonly string[], created: number): string {
  return `(${components.map((c) => `"${c}"`).join(' ')});created=${created}`;
}

/** Reads createSigningKey's private key, armoured or not. */
export function privateKeyOf(key: string): KeyObject {
  const text = key.trim();
  if (text.startsWith('-----BEGIN')) return createPrivateKey(text);
  return createPrivateKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'pkcs8' });
}

/** Reads a public key, armoured or bare base64 SPKI DER (the JWE's `pkey` claim). */
export function publicKeyOf(key: string): KeyObject {
  const text = key.trim();
  if (text.startsWith('-----BEGIN')) return createPublicKey(text);
  return createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
}

/** Ed25519 signs the message itself; RSA keys sign SHA-256 with PKCS#1 v1.5 padding. */
function algorithmOf(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

/**
 * The four headers for one request (three without a body). `created` defaults to now;
 * tests pass the one of eBay's vector.
 */
export function signatureHeaders(parts: SignedParts, key: { jwe: string; privateKey: string | KeyObject }, created = Math.floor(Date.now() / 1000)): Record<string, string> {
  const headers: Record<string, string> = { 'x-ebay-signature-key': key.jwe };
  if (parts.body !== undefined && parts.body !== '') headers['content-digest'] = contentDigest(parts.body);
  const components = headers['content-digest'] ? COMPONENTS_WITH_BODY : COMPONENTS_WITHOUT_BODY;
  // Parsing a PEM costs ten times the Ed25519 signature: callers signing often pass a KeyObject.
  const pk = typeof key.privateKey === 'string' ? privateKeyOf(key.privateKey) : key.privateKey;
  const signature = sign(algorithmOf(pk), Buffer.from(signatureBase(parts, headers, components, signatureParams(components, created))), pk).toString('base64');
  return { ...headers, 'signature-input': `sig1=${signatureParams(components, created)}`, signature: `sig1=:${signature}:` };
}

/** Why a signed request does not verify, or null when it does. Used by the simulator, as eBay's verifier works. */
export function signatureProblem(
  parts: SignedParts,
  headers: Record<string, string | string[] | undefined>,
  publicKeyFor: (jwe: string) => KeyObject | null,
): string | null {
  const h = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const jwe = h('x-ebay-signature-key');
  const input = h('signature-input');
  const signature = h('signature');
  if (!jwe) return 'x-ebay-signature-key header missing';
  if (!input) return 'Signature-Input header missing';
  if (!signature) return 'Signature header missing';
  const m = /^[^=]+=(\(([^)]*)\);created=\d+(;keyid=.+)?)$/.exec(input.trim());
  if (!m) return 'Signature-Input is not of the form sig1=(...);created=<unix time>';
  const components = m[2]!.split(' ').filter(Boolean).map((c) => c.replace(/"/g, '').toLowerCase());
  for (const c of components) if (c.startsWith('@') && !['@method', '@path', '@authority'].includes(c)) return `unknown pseudo header ${c}`;
  const hasBody = parts.body !== undefined && parts.body !== '';
  // eBay's list covers the key and the request line; with a body, the digest too.
  for (const c of hasBody ? COMPONENTS_WITH_BODY : COMPONENTS_WITHOUT_BODY) if (!components.includes(c)) return `the signature does not cover ${c}`;
  if (hasBody) {
    const digest = h('content-digest');
    if (!digest) return 'Content-Digest header missing';
    if (digest.trim() !== contentDigest(parts.body!)) return 'Content-Digest does not match the body';
  }
  const key = publicKeyFor(jwe);
  if (!key) return 'x-ebay-signature-key is not a key eBay issued';
  const sig = /^[^=]+=:([A-Za-z0-9+/=]+):$/.exec(signature.trim());
  if (!sig) return 'Signature is not of the form sig1=:<base64>:';
  const lowered: Record<string, string> = {};
  for (const c of components) if (!c.startsWith('@')) lowered[c] = h(c) ?? '';
  let base: string;
  try {
    // As eBay's verifier does: the parameters exactly as the client wrote them.
    base = signatureBase(parts, lowered, components, m[1]!);
  } catch (err) {
    return (err as Error).message;
  }
  const ok = verify(algorithmOf(key), Buffer.from(base), key, Buffer.from(sig[1]!, 'base64'));
  return ok ? null : 'Signature invalid';
}
