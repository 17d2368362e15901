import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram } from '../src/histogram.js';

test('quantiles are within the histogram precision (1/64) of the exact ones', () => {
  const h = new Histogram();
  const values: number[] = [];
  for (let i = 1; i <= 100_000; i++) {
    const v = Math.round(Math.exp((i % 1000) / 80)); // 1 µs .. ~265 ms, skewed
    values.push(v);
    h.record(v);
  }
  values.sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const exact = values[Math.ceil(q * values.length) - 1]!;
    const got = h.quantile(q);
    assert.ok(got >= exact, `q${q}: ${got} below the exact ${exact}`);
    assert.ok(got <= exact * (1 + 1 / 64) + 1, `q${q}: ${got} too far above the exact ${exact}`);
  }
  assert.equal(h.count, 100_000);
  assert.equal(h.max, values[values.length - 1]);
});

test('small values are exact and an empty histogram answers 0', () => {
  const h = new Histogram();
  assert.equal(h.quantile(0.99), 0);
  for (const v of [1, 2, 3, 4, 63]) h.record(v);
  assert.equal(h.quantile(0.2), 1);
  assert.equal(h.quantile(0.6), 3);
  assert.equal(h.quantile(1), 63);
});

test('merging the JSON of two histograms equals recording into one', () => {
  const a = new Histogram();
  const b = new Histogram();
  const both = new Histogram();
  for (let i = 0; i < 5000; i++) {
    const v = (i * 7919) % 250_000;
    (i % 2 === 0 ? a : b).record(v);
    both.record(v);
  }
  const merged = new Histogram();
  merged.merge(JSON.parse(JSON.stringify(a.toJSON())));
  merged.merge(b.toJSON());
  assert.equal(merged.count, both.count);
  assert.equal(merged.max, both.max);
  for (const q of [0.5, 0.99, 0.999]) assert.equal(merged.quantile(q), both.quantile(q));
});

test('values beyond the range land in the last bucket instead of throwing', () => {
  const h = new Histogram();
  h.record(2 ** 40);
  h.record(-5);
  assert.equal(h.count, 2);
  assert.equal(h.quantile(1), 2 ** 40);
  assert.equal(h.quantile(0.5), 0);
});
