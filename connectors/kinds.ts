/**
 * The channel kinds the registry (`connectors/index.ts`) holds, as plain
 * strings: the CLI names them in its help without loading any connector.
 * `test/cli-light.test.ts` checks this list equals the registry's.
 */
export const CHANNEL_KINDS: readonly string[] = ['shopify', 'woocommerce', 'amazon', 'ebay'];
