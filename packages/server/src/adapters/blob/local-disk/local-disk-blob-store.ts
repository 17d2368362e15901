import type { Readable } from 'node:stream';
import type { BlobStore } from '../../../ports/blob-store.js';

/** STUB: to be written (media helper). */
export class LocalDiskBlobStore implements BlobStore {
  constructor(readonly root: string) {}
  async init(): Promise<void> {}
  async put(_body: Readable, _maxBytes: number): Promise<{ hash: string; size: number }> {
    throw new Error('not implemented');
  }
  async stat(_hash: string): Promise<{ size: number } | undefined> {
    return undefined;
  }
  read(_hash: string): Readable {
    throw new Error('not implemented');
  }
  async delete(_hash: string): Promise<void> {}
}
