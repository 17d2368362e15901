import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** How busy the machine is with other work: results taken on a busy machine are not comparable. */
export interface Contention {
  loadAverage1m: number;
  /** Share of the last 60 s in which some runnable task waited for a CPU (Linux PSI), or undefined. */
  cpuPressureAvg60?: number;
  ioPressureAvg60?: number;
}

export function contention(): Contention {
  return {
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
    ...optional('cpuPressureAvg60', pressure('cpu')),
    ...optional('ioPressureAvg60', pressure('io')),
  };
}

function pressure(resource: 'cpu' | 'io'): number | undefined {
  try {
    const text = readFileSync(`/proc/pressure/${resource}`, 'utf8');
    const match = /^some avg10=[\d.]+ avg60=([\d.]+)/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch (err) {
    // Kernels without PSI have no such file; the load average still says something.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

export function describe(c: Contention): string {
  const psi = c.cpuPressureAvg60 === undefined ? '' : `, CPU pressure ${c.cpuPressureAvg60}%`;
  return `load average ${c.loadAverage1m}${psi}`;
}
