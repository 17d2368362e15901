/** Latency samples per stage, the most recent ones kept, for percentiles in the live summary. */
const keep = 10_000;

export class LatencyStats<Stage extends string> {
  readonly #samples = new Map<Stage, number[]>();

  add(stage: Stage, ms: number): void {
    let samples = this.#samples.get(stage);
    if (samples === undefined) {
      samples = [];
      this.#samples.set(stage, samples);
    }
    samples.push(ms);
    if (samples.length > keep) samples.splice(0, samples.length - keep);
  }

  /** The q-quantile (0..1) of the stage's recent samples, in ms; undefined without samples. */
  quantile(stage: Stage, q: number): number | undefined {
    const samples = this.#samples.get(stage);
    if (samples === undefined || samples.length === 0) return undefined;
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }
}
