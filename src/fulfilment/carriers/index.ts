/** Carrier adapters by name: a plain map, like the connector registry. */
import type { Config } from '../../config.ts';
import { ConfigError } from '../../domain/errors.ts';
import { manualCarrier } from './manual.ts';
import { simulatedCarrier } from './simulated.ts';
import type { CarrierAdapter } from './types.ts';

export function carrierAdapters(config: Pick<Config, 'simulatedDeliverySeconds'>): ReadonlyMap<string, CarrierAdapter> {
  return new Map<string, CarrierAdapter>([
    [manualCarrier.name, manualCarrier],
    ['simulated', simulatedCarrier({ deliveryAfterMs: config.simulatedDeliverySeconds * 1000 })],
  ]);
}

export function carrierAdapter(config: Pick<Config, 'simulatedDeliverySeconds'>, name: string): CarrierAdapter {
  const adapter = carrierAdapters(config).get(name);
  if (!adapter) throw new ConfigError(`unknown carrier adapter "${name}" (known: ${[...carrierAdapters(config).keys()].join(', ')})`);
  return adapter;
}
