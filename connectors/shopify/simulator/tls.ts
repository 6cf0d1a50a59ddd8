/**
 * A self-signed certificate for 127.0.0.1, made at start.
 * The connector trusts it through its own transport settings
 * (`channelConfig().settings.caCertificate`), never by turning TLS checks off.
 */
import { generate } from 'selfsigned';

export interface Certificate { key: string; cert: string }

export async function selfSignedCertificate(): Promise<Certificate> {
  const notAfter = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    // EC keys generate in milliseconds; RSA-2048 can take a second on a busy CI core.
    keyType: 'ec',
    notAfterDate: notAfter,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
