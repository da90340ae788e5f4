/**
 * Renders suite results as Markdown tables (so a run can be pasted into RESULTS.md): one column per
 * registry, and with two registries the ratio of the first over the second and the target verdict.
 * Notes and errors follow the table as footnotes.
 */
import type { Metric } from './metric.js';
import type { SuiteResult } from './suite.js';
import { ratio, verdict } from './targets.js';

function formatValue(metric: Metric | undefined): string {
  if (!metric) return '—';
  if (metric.value === null) return 'ERR';
  const value = metric.value;
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  // The same shape Prettier gives a Markdown table, so a pasted run passes `npm run format:check`.
  const rule = `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Metric ids in first-seen order across all results, with the label and unit of their first sighting. */
function metricOrder(results: readonly SuiteResult[]): Metric[] {
  const seen = new Map<string, Metric>();
  for (const result of results)
    for (const metric of result.metrics) if (!seen.has(metric.id)) seen.set(metric.id, metric);
  // Memory rows last, whatever scenario produced them: they describe the run, not one operation.
  const all = [...seen.values()];
  return [...all.filter((m) => !m.id.startsWith('rss.')), ...all.filter((m) => m.id.startsWith('rss.'))];
}

function footnotes(results: readonly SuiteResult[]): string[] {
  const lines: string[] = [];
  for (const result of results) {
    for (const metric of result.metrics) {
      if (metric.error) lines.push(`- ${result.label}, ${metric.id}: ERROR ${metric.error}`);
      else if (metric.note) lines.push(`- ${result.label}, ${metric.id}: ${metric.note}`);
    }
  }
  return lines;
}

export function renderResults(results: readonly SuiteResult[]): string {
  const [first, second] = results;
  if (!first) return '(no results)';
  const order = metricOrder(results);
  const byId = (result: SuiteResult | undefined, id: string): Metric | undefined =>
    result?.metrics.find((metric) => metric.id === id);

  let table: string;
  if (!second) {
    table = markdownTable(
      ['metric', 'unit', first.label],
      order.map((metric) => [metric.label, metric.unit, formatValue(byId(first, metric.id))]),
    );
  } else {
    table = markdownTable(
      ['metric', 'unit', first.label, second.label, `${first.label} vs ${second.label}`, 'target', 'status'],
      order.map((metric) => {
        const mine = byId(first, metric.id);
        const achieved = mine ? ratio(mine, byId(second, metric.id)) : null;
        const target = verdict(metric.id, achieved);
        const status =
          target === undefined ? '' : target.met === null ? 'n/a' : target.met ? 'met' : 'not met';
        return [
          metric.label,
          metric.unit,
          formatValue(byId(first, metric.id)),
          formatValue(byId(second, metric.id)),
          achieved === null ? '—' : `${achieved.toFixed(2)}×`,
          target ? `≥${target.target}×` : '',
          status,
        ];
      }),
    );
  }

  const header = results.map(
    (result) =>
      `- ${result.label}: ${result.url}${result.pid !== undefined ? ` (pid ${result.pid})` : ''}, auth ${result.auth}, ` +
      `profile ${result.profile}, ${result.durationSeconds.toFixed(0)} s, started ${result.startedAt}, ` +
      `load average ${result.loadAverage.toFixed(2)}`,
  );
  const notes = footnotes(results);
  const ratioNote = second
    ? ['', 'Ratios read "times better": throughput first/second, latency and memory second/first.']
    : [];
  return [...header, '', table, ...ratioNote, ...(notes.length ? ['', 'Notes:', ...notes] : [])].join('\n');
}
