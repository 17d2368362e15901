import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** Memory of a process as the kernel counts it, in bytes (Linux /proc/<pid>/status). */
export interface ProcMemory {
  /** Resident set: what the process really occupies in RAM. */
  rss: number;
  /** The anonymous part of the resident set: heaps (V8's and malloc's), stacks; no mapped files. */
  rssAnon: number;
  /** Private data and heap mappings, resident or not. */
  vmData: number;
}

export async function readProcMemory(pid: number): Promise<ProcMemory> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return { rss: field(text, 'VmRSS'), rssAnon: field(text, 'RssAnon'), vmData: field(text, 'VmData') };
}

function field(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  if (match === null) throw new Error(`/proc status has no ${name} line`);
  return Number(match[1]) * 1024;
}

/** This process's soft limit of open files (`ulimit -n`), from /proc/self/limits. */
export function openFileLimit(): number {
  const text = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (match === null) throw new Error('/proc/self/limits has no "Max open files" line');
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

export const MiB = 1024 * 1024;
export const KiB = 1024;

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. Linux
 * counts it in clock ticks of USER_HZ, which is 100 on every mainstream architecture.
 */
export async function readProcCpuMs(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after it are plain numbers.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) * 10;
}

/** The main thread's scheduler account, in ms: time on a CPU, and time runnable but waiting for one. */
export interface SchedStat {
  onCpuMs: number;
  runQueueMs: number;
}

/** /proc/<pid>/schedstat: the thread-group leader, which for Node is the event-loop thread. */
export async function readSchedStat(pid: number): Promise<SchedStat> {
  const [onCpuNs, runQueueNs] = (await readFile(`/proc/${pid}/schedstat`, 'utf8')).trim().split(' ').map(Number);
  return { onCpuMs: onCpuNs! / 1e6, runQueueMs: runQueueNs! / 1e6 };
}
