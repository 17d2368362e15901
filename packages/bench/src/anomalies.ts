/**
 * What a scenario saw that the contract does not allow: kept as a count and the first few
 * descriptions (with the frames), so a flood of one fault cannot drown the report.
 */
export class Anomalies {
  count = 0;
  readonly samples: string[] = [];

  constructor(private readonly keep = 20) {}

  add(description: string): void {
    this.count++;
    if (this.samples.length < this.keep) this.samples.push(description);
  }

  addAll(other: { count: number; samples: string[] }): void {
    this.count += other.count;
    for (const sample of other.samples) if (this.samples.length < this.keep) this.samples.push(sample);
  }

  toJSON(): { count: number; samples: string[] } {
    return { count: this.count, samples: this.samples };
  }
}
