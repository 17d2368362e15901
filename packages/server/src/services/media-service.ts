import type { BlobStore } from '../ports/blob-store.js';
import type { Store } from '../ports/store.js';

export interface MediaSettings {
  maxBytes: number;
  retentionMs: number;
}

/** STUB: to be written (media helper). Uploads, downloads and the retention sweep of media blobs. */
export class MediaService {
  constructor(
    readonly store: Store,
    readonly blobs: BlobStore,
    readonly settings: MediaSettings,
    readonly now: () => number = Date.now,
  ) {}

  /** Removes blobs no undelivered message refers to, older than the retention period. */
  async sweep(): Promise<number> {
    return 0;
  }
}
