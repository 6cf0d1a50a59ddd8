/**
 * The registry: channel kind -> connector factory. A plain map, no discovery:
 * a new channel is one folder under connectors/ and one line here (and its
 * kind in `kinds.ts`, which the CLI's help reads without loading connectors).
 */
import type { ConnectorFactory } from './types.ts';
import { ConfigError } from '../src/domain/errors.ts';
import { shopifyFactory } from './shopify/index.ts';
import { woocommerceFactory } from './woocommerce/index.ts';
import { amazonFactory } from './amazon/index.ts';
import { ebayFactory } from './ebay/index.ts';

const FACTORIES: ConnectorFactory[] = [shopifyFactory, woocommerceFactory, amazonFactory, ebayFactory];

export const connectorFactories: ReadonlyMap<string, ConnectorFactory> = new Map(FACTORIES.map((f) => [f.kind, f]));

export function connectorFactory(kind: string): ConnectorFactory {
  const factory = connectorFactories.get(kind);
  if (!factory) {
    const known = [...connectorFactories.keys()].join(', ') || 'none';
    throw new ConfigError(`unknown channel kind "${kind}" (known: ${known})`);
  }
  return factory;
}
