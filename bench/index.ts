/**
 * `npm run bench`: every scenario of issue #18, each figure beside a floor
 * that does not depend on the code being measured, as a table (figure,
 * floor, ratio, target, met) and in `bench/results.json` (with the machine
 * and the date; `bench/results.md` is the same table for the README).
 *
 *   npm run bench                      every scenario, full size (< 20 min on 2 cores)
 *   npm run bench -- --quick           every scenario small (< 2 min), CI's sanity check
 *   npm run bench -- ingest console    the named ones only (merged into results.json)
 *   npm run bench -- --markdown        re-render results.md from results.json, measuring nothing
 *
 * Sizes can be changed one by one with the BENCH_* variables each file names.
 * Ratios travel between machines; absolute figures do not (a loaded machine
 * shows in `machine.loadavg`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS } from './scenarios.ts';
import type { BenchRow } from './types.ts';

export interface ScenarioResult {
  date: string;
  mode: 'quick' | 'full';
  seconds: number;
  rows: BenchRow[];
  /** Set when the scenario threw: its rows are then empty. */
  error?: string;
}

export interface Results {
  date: string;
  machine: ReturnType<typeof machine>;
  scenarios: Record<string, ScenarioResult>;
}

const RESULTS = join(import.meta.dirname, 'results.json');

function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    /** 1, 5 and 15 minute load averages when the run started: other work on the machine. */
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--markdown')) {
    // Only re-renders bench/results.md from bench/results.json (for the README), measuring nothing.
    const md = markdown(JSON.parse(readFileSync(RESULTS, 'utf8')) as Results);
    writeFileSync(join(import.meta.dirname, 'results.md'), md);
    console.log(md);
    return 0;
  }
  const quick = args.includes('--quick');
  const wanted = args.filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !(w in SCENARIOS));
  if (unknown.length) {
    console.error(`unknown scenario(s): ${unknown.join(', ')} (known: ${Object.keys(SCENARIOS).join(', ')})`);
    return 2;
  }
  const started = new Date();
  const t0 = performance.now();
  const results: Results = { date: started.toISOString(), machine: machine(), scenarios: {} };
  // A run of some scenarios keeps the others' last results (each carries its own date and mode).
  if (wanted.length && existsSync(RESULTS)) {
    try {
      results.scenarios = (JSON.parse(readFileSync(RESULTS, 'utf8')) as Results).scenarios ?? {};
    } catch {
      // An unreadable file is replaced.
    }
  }
  console.log(header(results, quick));
  let failed = 0;
  for (const [id, load] of Object.entries(SCENARIOS)) {
    if (wanted.length && !wanted.includes(id)) continue;
    const t = performance.now();
    const progress = (m: string) => process.stderr.write(`[${id}] ${m}\n`);
    let entry: ScenarioResult;
    try {
      const rows = await (await load()).default.run({ quick, progress });
      entry = { date: new Date().toISOString(), mode: quick ? 'quick' : 'full', seconds: secs(t), rows };
    } catch (err) {
      failed++;
      entry = { date: new Date().toISOString(), mode: quick ? 'quick' : 'full', seconds: secs(t), rows: [], error: (err as Error).stack ?? String(err) };
    }
    results.scenarios[id] = entry;
    printScenario(id, entry);
    // Written after every scenario: a long run stopped halfway keeps what it measured.
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  }
  writeFileSync(join(import.meta.dirname, 'results.md'), markdown(results));
  console.log(`\ntook ${secs(t0)} s; wrote bench/results.json and bench/results.md`);
  return failed ? 1 : 0;
}

function secs(since: number): number {
  return Math.round((performance.now() - since) / 100) / 10;
}

function header(r: Results, quick: boolean): string {
  const m = r.machine;
  return `channelsync bench ${quick ? '--quick ' : ''}${r.date}  ${m.cpu} x ${m.cores}, ${m.memoryGiB} GiB, node ${m.node}, load ${m.loadavg.join(' ')}`;
}

function fmt(n: number | null): string {
  if (n === null) return '-';
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

function metText(met: boolean | null): string {
  return met === null ? 'n/a' : met ? 'yes' : 'NO';
}

function printScenario(id: string, e: ScenarioResult): void {
  if (e.error) {
    console.log(`${id.padEnd(16)} FAILED after ${e.seconds} s: ${e.error.split('\n')[0]}`);
    return;
  }
  for (const r of e.rows) {
    console.log(
      `${id.padEnd(16)} ${r.figure.padEnd(58)} ${`${fmt(r.value)} ${r.unit}`.padStart(16)}  floor ${`${fmt(r.floor)}`.padStart(9)}  ratio ${fmt(r.ratio).padStart(6)}  ${r.target.padEnd(26)} ${metText(r.met)}`,
    );
    console.log(`${''.padEnd(17)}floor: ${r.floorWhat}${r.note ? `; ${r.note}` : ''}`);
  }
  console.log(`${id.padEnd(16)} (${e.seconds} s)`);
}

/** The table as Markdown, for the README. */
function markdown(r: Results): string {
  const m = r.machine;
  const dates = Object.values(r.scenarios).map((e) => e.date).sort();
  const when = (d: string) => d.slice(0, 16).replace('T', ' ');
  const span = dates.length ? `${when(dates[0]!)} to ${when(dates.at(-1)!)}` : when(r.date);
  const lines = [
    `Measured ${span} UTC on ${m.cpu} x ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node} (load ${m.loadavg.join(' ')} when the last run started); each scenario's own date and mode are in bench/results.json.`,
    '',
    '| scenario | figure | value | floor | ratio | target | met |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const [id, e] of Object.entries(r.scenarios)) {
    const tag = e.mode === 'quick' ? `${id} (quick)` : id;
    if (e.error) lines.push(`| ${tag} | failed: ${e.error.split('\n')[0]!.replace(/\|/g, '/')} | | | | | |`);
    for (const row of e.rows) {
      lines.push(`| ${tag} | ${row.figure} | ${fmt(row.value)} ${row.unit} | ${fmt(row.floor)} | ${fmt(row.ratio)} | ${row.target} | ${metText(row.met)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

process.exit(await main());
