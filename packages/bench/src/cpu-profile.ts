import { readFile } from 'node:fs/promises';

/** The parts of V8's .cpuprofile JSON (written by node --cpu-prof) that a summary needs. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Time not idle: what the server's main thread really spent. */
  busyMs: number;
  topSelf: ProfileEntry[];
  topTotal: ProfileEntry[];
  byCategory: ProfileEntry[];
}

const IDLE = '(idle)';
const ROOT = '(root)';

export async function summariseProfileFile(file: string, top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  return { file, ...summariseProfile(profile, top) };
}

/** Self time and inclusive time per function, and self time per category (package, runtime, GC). */
export function summariseProfile(profile: CpuProfile, top = 25): Omit<ProfileSummary, 'file'> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const categories = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // Each delta is the time since the previous sample, which the current sample stands for.
    const us = profile.timeDeltas[i] ?? 0;
    if (us <= 0) continue;
    const node = byId.get(profile.samples[i]!);
    if (node === undefined) continue;
    totalUs += us;
    const key = frameName(node.callFrame);
    if (node.callFrame.functionName === IDLE) idleUs += us;
    add(self, key, us);
    add(categories, categoryOf(node.callFrame), us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === ROOT) continue;
      const name = frameName(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      add(total, name, us);
    }
  }
  const busyUs = totalUs - idleUs;
  const entries = (map: Map<string, number>, skipIdle: boolean) =>
    [...map]
      .filter(([name]) => !skipIdle || name !== IDLE)
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: round(us / 1000), percent: busyUs === 0 ? 0 : round((100 * us) / busyUs) }));
  return {
    totalMs: round(totalUs / 1000),
    busyMs: round(busyUs / 1000),
    topSelf: entries(self, true),
    topTotal: entries(total, true),
    byCategory: entries(categories, true),
  };
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function frameName(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** A file name short enough for a table: the package and the path inside it. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  const packages = path.lastIndexOf('/packages/');
  if (packages >= 0) return path.slice(packages + '/packages/'.length);
  return path;
}

/** Where a sample's own time belongs: a package, Node's core, V8's runtime, or the GC. */
export function categoryOf(frame: { functionName: string; url: string }): string {
  if (frame.url === '') {
    if (frame.functionName.startsWith('(')) return frame.functionName;
    return 'native code called from JS (syscalls, SQLite, crypto, JSON...)';
  }
  const path = frame.url.replace(/^file:\/\//, '');
  if (path.startsWith('node:')) return `node core: ${path.slice(5).split('/')[0]}`;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + '/node_modules/'.length).split('/');
    return `npm: ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const server = /\/packages\/server\/dist\/src\/([^/]+)/.exec(path);
  if (server) return `courier server: ${server[1]}`;
  return 'other JS';
}
