import type { GroupCommit } from './sqlite-group-commit.js';

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Requests of one kind submitted before the next group commit runs go into it as one job:
 * `together` gets them all, in the order submitted, and answers each one's result. So a thousand
 * members acking one group message cost a few statements, not three each. Should that job fail,
 * each request runs again as a job of its own (`alone`), so that a bad one fails alone.
 */
export class CoalescedJobs<I, R> {
  #waiting: Waiting<I, R>[] = [];

  constructor(
    private readonly commit: GroupCommit,
    private readonly together: (items: I[]) => R[],
    private readonly alone: (item: I) => R,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#waiting.length === 1) this.#schedule();
    });
  }

  #schedule(): void {
    let taken: Waiting<I, R>[] | undefined;
    this.commit
      .run(() => {
        // The first run takes what waits now; a retry of the same batch (see GroupCommit) reuses it.
        taken ??= this.#waiting.splice(0);
        return this.together(taken.map((waiting) => waiting.item));
      })
      .then(
        (results) => taken!.forEach((waiting, i) => waiting.resolve(results[i]!)),
        () => {
          for (const waiting of taken ?? this.#waiting.splice(0)) {
            this.commit.run(() => this.alone(waiting.item)).then(waiting.resolve, waiting.reject);
          }
        },
      );
  }
}
