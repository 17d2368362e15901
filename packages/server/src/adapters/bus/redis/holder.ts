/**
 * The directory value naming who holds a device: `<nodeId>|<connectionId>`. Node ids may not
 * contain `|`, so the first `|` always separates the two.
 */
export interface Holder {
  nodeId: string;
  connectionId: string;
}

export function formatHolder(nodeId: string, connectionId: string): string {
  return `${nodeId}|${connectionId}`;
}

export function parseHolder(value: string): Holder | undefined {
  const sep = value.indexOf('|');
  if (sep < 0) return undefined;
  return { nodeId: value.slice(0, sep), connectionId: value.slice(sep + 1) };
}
