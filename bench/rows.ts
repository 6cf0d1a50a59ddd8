/**
 * Row builders, so every scenario states its target the same way and the
 * runner never has to guess which direction is good.
 */
import type { BenchRow } from './types.ts';

interface Common {
  figure: string;
  unit: string;
  floorWhat: string;
  note?: string;
}

/**
 * Lower is better (a time, a cost): met when value / floor <= max and value <= absMax,
 * for those given (a target with only absMax still shows the ratio to its floor).
 */
export function atMost(c: Common & { value: number; floor: number; max?: number; absMax?: number }): BenchRow {
  const ratio = c.floor > 0 ? c.value / c.floor : null;
  const abs = c.absMax === undefined ? true : c.value <= c.absMax;
  const rel = c.max === undefined ? true : ratio !== null && ratio <= c.max;
  const target = [c.max === undefined ? null : `ratio <= ${c.max}`, c.absMax === undefined ? null : `<= ${c.absMax} ${c.unit}`].filter(Boolean).join(' and ');
  return {
    figure: c.figure, value: c.value, unit: c.unit, floor: c.floor, floorWhat: c.floorWhat, ratio,
    target: target || 'none (informational)',
    met: target ? rel && abs : null,
    note: c.note ?? '',
  };
}

/** Higher is better (a throughput): met when value / floor >= min (and value >= absMin when given). */
export function atLeast(c: Common & { value: number; floor: number; min: number; absMin?: number }): BenchRow {
  const ratio = c.floor > 0 ? c.value / c.floor : null;
  const abs = c.absMin === undefined ? true : c.value >= c.absMin;
  return {
    figure: c.figure, value: c.value, unit: c.unit, floor: c.floor, floorWhat: c.floorWhat, ratio,
    target: `ratio >= ${c.min}${c.absMin === undefined ? '' : ` and >= ${c.absMin} ${c.unit}`}`,
    met: ratio !== null && ratio >= c.min && abs,
    note: c.note ?? '',
  };
}

/** An absolute figure with no floor (latency, memory): met when value <= max. */
export function absolute(c: Omit<Common, 'floorWhat'> & { value: number; max: number; targetText?: string }): BenchRow {
  return {
    figure: c.figure, value: c.value, unit: c.unit, floor: null, floorWhat: 'none (absolute)', ratio: null,
    target: c.targetText ?? `<= ${c.max} ${c.unit}`,
    met: c.value <= c.max,
    note: c.note ?? '',
  };
}

/** A row for something that cannot be measured yet; says so instead of inventing a number. */
export function notMeasured(figure: string, target: string, why: string): BenchRow {
  return { figure, value: null, unit: '', floor: null, floorWhat: '', ratio: null, target, met: null, note: why };
}

/** The median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Reads a positive whole number from the environment, or the default for this mode. */
export function sized(name: string, full: number, quick: number, isQuick: boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return isQuick ? quick : full;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return n;
}
