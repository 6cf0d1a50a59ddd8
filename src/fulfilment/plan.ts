/**
 * Where an order's units come from: a pure function over what each active
 * location has available, so the rule can be read and tested without a
 * database. The rule:
 * 1. one location that can ship everything, the best by priority (lowest number first);
 * 2. otherwise split: repeatedly take the location that covers the most of
 *    what is left (ties by priority), so the order ships in as few parcels as possible;
 * 3. whatever no location has is backordered.
 */

export interface Need {
  lineId: number;
  skuId: number;
  quantity: number;
}

export interface LocationStock {
  locationId: number;
  /** Lower ships first; ties by id. */
  priority: number;
  /** Units available (on hand - reserved) per SKU id. */
  available: Map<number, number>;
}

export interface Plan {
  /** One group per location that ships something, in the order chosen. */
  allocations: Array<{ locationId: number; lines: Need[] }>;
  backordered: Need[];
}

export function planAllocation(needs: readonly Need[], locations: readonly LocationStock[]): Plan {
  const ordered = [...locations].sort((a, b) => a.priority - b.priority || a.locationId - b.locationId);
  const chosen = chooseLocations(needs, ordered);

  // Assign lines to the chosen locations in order; a line is split when a location has only part of it.
  const allocations: Plan['allocations'] = [];
  const remaining = needs.map((n) => ({ ...n }));
  for (const locationId of chosen) {
    const shelf = new Map(ordered.find((l) => l.locationId === locationId)!.available);
    const lines: Need[] = [];
    for (const n of remaining) {
      const have = Math.max(0, shelf.get(n.skuId) ?? 0);
      const qty = Math.min(have, n.quantity);
      if (qty <= 0) continue;
      lines.push({ lineId: n.lineId, skuId: n.skuId, quantity: qty });
      shelf.set(n.skuId, have - qty);
      n.quantity -= qty;
    }
    if (lines.length) allocations.push({ locationId, lines });
  }
  return { allocations, backordered: remaining.filter((n) => n.quantity > 0) };
}

/** The locations to ship from, in order (see the rule above). */
function chooseLocations(needs: readonly Need[], ordered: readonly LocationStock[]): number[] {
  const left = new Map<number, number>();
  for (const n of needs) left.set(n.skuId, (left.get(n.skuId) ?? 0) + n.quantity);
  const total = [...left.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  const covers = (l: LocationStock) => {
    let units = 0;
    for (const [sku, want] of left) units += Math.min(want, Math.max(0, l.available.get(sku) ?? 0));
    return units;
  };
  const whole = ordered.find((l) => covers(l) === total);
  if (whole) return [whole.locationId];

  const chosen: number[] = [];
  for (;;) {
    let best: LocationStock | null = null;
    let bestUnits = 0;
    for (const l of ordered) {
      if (chosen.includes(l.locationId)) continue;
      const units = covers(l);
      if (units > bestUnits) [best, bestUnits] = [l, units];
    }
    if (!best) return chosen;
    chosen.push(best.locationId);
    for (const [sku, want] of left) left.set(sku, want - Math.min(want, Math.max(0, best.available.get(sku) ?? 0)));
  }
}
