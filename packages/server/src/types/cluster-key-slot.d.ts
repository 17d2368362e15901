/** The package ioredis uses to find a key's Redis Cluster slot; it ships no types. */
declare module 'cluster-key-slot' {
  /** The slot (0..16383) of a key, its hash tag honoured. */
  export default function calculateSlot(key: string | Buffer): number;
}
