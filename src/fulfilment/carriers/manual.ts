/** The manual carrier: a person enters carrier, service and tracking number (CLI or admin API). */
import { ConfigError } from '../../domain/errors.ts';
import type { CarrierAdapter, Label, ShipmentRequest } from './types.ts';
import { trackingUrlFor } from './urls.ts';

export const manualCarrier: CarrierAdapter = {
  name: 'manual',
  automatic: false,
  async createShipment(request: ShipmentRequest): Promise<Label> {
    const m = request.manual;
    if (!m || !m.carrier.trim() || !m.trackingNumber.trim()) {
      throw new ConfigError(`fulfilment ${request.fulfilmentId}: the manual carrier needs a carrier name and a tracking number (--carrier, --tracking)`);
    }
    const trackingNumber = m.trackingNumber.trim().replace(/\s+/g, '');
    return {
      carrier: m.carrier.trim(),
      service: m.service?.trim() || null,
      trackingNumber,
      trackingUrl: m.trackingUrl?.trim() || trackingUrlFor(m.carrier, trackingNumber),
    };
  },
};
