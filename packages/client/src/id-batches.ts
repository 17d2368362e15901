/** Most ids in one `read` or `presence.subscribe` frame: keeps the frame far below the server's 64 KiB limit. */
const idsPerFrame = 500;

/** Splits a list of ids into lists that each fit in one frame. */
export function idBatches(ids: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += idsPerFrame) out.push(ids.slice(i, i + idsPerFrame));
  return out;
}
