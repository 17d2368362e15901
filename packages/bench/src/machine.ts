import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem, freemem, release } from 'node:os';
import { openFileLimit } from './proc-status.js';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memTotalBytes: number;
  memFreeBytes: number;
  node: string;
  kernel: string;
  openFileLimit: number;
  ephemeralPorts: string;
}

/** What the results depend on, read the way `nproc`, `free` and /proc/cpuinfo report it. */
export function machineInfo(): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  let ports = 'unknown';
  try {
    ports = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '-');
  } catch (err) {
    // Not fatal: only reported beside the results.
    ports = `unreadable (${(err as Error).message})`;
  }
  return {
    nproc: availableParallelism(),
    cpuModel: model,
    memTotalBytes: totalmem(),
    memFreeBytes: freemem(),
    node: process.version,
    kernel: release(),
    openFileLimit: openFileLimit(),
    ephemeralPorts: ports,
  };
}
