import { describe } from './contention.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { ScenarioResult } from './scenario.js';

/** The results table: one row per measure, the target beside it. */
export function resultsTable(results: ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'measure', 'result', 'target', 'met']];
  for (const result of results) {
    if (result.error !== undefined) {
      rows.push([result.title, 'did not complete', firstLine(result.error), '', 'n/a']);
      continue;
    }
    result.metrics.forEach((metric, i) => {
      rows.push([
        i === 0 ? result.title : '',
        metric.label,
        `${metric.value.toLocaleString('en-US')} ${metric.unit}`,
        metric.target?.text ?? '',
        metric.target === undefined ? '' : metric.target.met ? 'yes' : 'NO',
      ]);
    });
    if (result.anomalies.count > 0) rows.push(['', 'ANOMALIES (contract violations)', String(result.anomalies.count), '0', 'NO']);
    if (result.contention !== undefined) rows.push(['', 'machine before / after (other work skews results)', `${describe(result.contention.before)} / ${describe(result.contention.after)}`, '', '']);
  }
  const widths = rows[0]!.map((_, col) => Math.min(90, Math.max(...rows.map((row) => row[col]!.length))));
  const line = (row: string[]) => row.map((cell, col) => cell.slice(0, widths[col]).padEnd(widths[col]!)).join(' | ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.slice(1).map(line)].join('\n');
}

export function anomalyReport(results: ScenarioResult[]): string {
  const parts: string[] = [];
  for (const result of results) {
    if (result.anomalies.count === 0) continue;
    parts.push(`${result.title}: ${result.anomalies.count} anomalies; the first ones:\n${result.anomalies.samples.map((s) => `  - ${s}`).join('\n')}`);
  }
  return parts.join('\n\n');
}

export function profileReport(title: string, profile: ProfileSummary, top = 12): string {
  const list = (entries: ProfileSummary['topSelf']) => entries.slice(0, top).map((e) => `    ${e.percent.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`).join('\n');
  return [
    `${title}: server CPU profile ${profile.file}`,
    `  busy ${Math.round(profile.busyMs)} ms of ${Math.round(profile.totalMs)} ms sampled`,
    '  self time by category:',
    list(profile.byCategory),
    '  top functions by self time:',
    list(profile.topSelf),
    '  top functions by inclusive time:',
    list(profile.topTotal),
  ].join('\n');
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}
