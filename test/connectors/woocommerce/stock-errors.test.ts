/**
 * Which per-item errors of a WooCommerce batch answer are worth retrying,
 * checked on the real error bodies recorded from WooCommerce 7.9.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { itemErrorIsRetryable } from '../../../connectors/woocommerce/connector.ts';

const captures = JSON.parse(readFileSync(new URL('../../../../shared/fixtures/woocommerce/captures/rest-v3.json', import.meta.url), 'utf8'));

describe('WooCommerce batch item errors', () => {
  it('gives up on a validation error and retries a server-side failure, whichever shape its data has', () => {
    const invalid = captures.cases.productsBatchStock.response.body.update.find((u: { error?: unknown }) => u.error).error;
    expect(invalid).toMatchObject({ code: 'woocommerce_rest_product_invalid_id', data: { status: 400 } });
    expect(itemErrorIsRetryable(invalid)).toBe(false);
    // WooCommerce's WP_Error `data` is sometimes the bare status (the recorded refund error).
    const serverSide = captures.cases.refundTooLarge.response.body;
    expect(serverSide.data).toBe(500);
    expect(itemErrorIsRetryable(serverSide)).toBe(true);
    expect(itemErrorIsRetryable({ code: 'x', message: 'locked', data: { status: 409 } })).toBe(true);
    expect(itemErrorIsRetryable({ code: 'x', message: 'no status', data: null })).toBe(false);
  });
});
