/**
 * A latency histogram in microseconds with ~1.6 % relative precision (64 linear sub-buckets per
 * power of two, as HdrHistogram does), so workers can record millions of samples in a fixed
 * array and the parent can merge them by adding counts.
 */
const SUB_BUCKETS = 64;
const SUB_BITS = 6;
/** Values up to 2^36 µs (19 hours) are kept; anything larger lands in the last bucket. */
const MAX_EXPONENT = 36;
/** The bucket where every value beyond the range goes; its upper edge means nothing. */
const OVERFLOW = (MAX_EXPONENT - SUB_BITS + 1) * SUB_BUCKETS + SUB_BUCKETS - 1;

export type HistogramCounts = Record<string, number>;

export class Histogram {
  private readonly counts = new Float64Array((MAX_EXPONENT + 1) * SUB_BUCKETS);
  private total = 0;
  private maxUs = 0;
  private sumUs = 0;

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.maxUs;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sumUs / this.total;
  }

  record(us: number): void {
    const value = Math.max(0, Math.round(us));
    this.counts[indexOf(value)]! += 1;
    this.total++;
    this.sumUs += value;
    if (value > this.maxUs) this.maxUs = value;
  }

  /** The value at quantile `q` (0..1), as the upper edge of its bucket (never below the true value). */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i === OVERFLOW ? this.maxUs : Math.min(upperEdge(i), this.maxUs);
    }
    return this.maxUs;
  }

  /** A compact form for IPC: only the non-empty buckets. */
  toJSON(): { buckets: HistogramCounts; count: number; max: number; sum: number } {
    const buckets: HistogramCounts = {};
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) buckets[i] = this.counts[i]!;
    return { buckets, count: this.total, max: this.maxUs, sum: this.sumUs };
  }

  merge(other: ReturnType<Histogram['toJSON']>): void {
    for (const [index, n] of Object.entries(other.buckets)) this.counts[Number(index)]! += n;
    this.total += other.count;
    this.sumUs += other.sum;
    if (other.max > this.maxUs) this.maxUs = other.max;
  }
}

function indexOf(value: number): number {
  if (value < SUB_BUCKETS) return value;
  const exponent = Math.min(Math.floor(Math.log2(value)), MAX_EXPONENT);
  const shift = exponent - SUB_BITS;
  const sub = Math.min(Math.floor(value / 2 ** shift), 2 * SUB_BUCKETS - 1) - SUB_BUCKETS;
  return (shift + 1) * SUB_BUCKETS + sub;
}

function upperEdge(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const block = Math.floor(index / SUB_BUCKETS);
  const sub = index % SUB_BUCKETS;
  const shift = block - 1;
  return (SUB_BUCKETS + sub + 1) * 2 ** shift - 1;
}
