import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { CoalescedJobs } from '../src/adapters/store/sqlite/sqlite-coalesced-jobs.js';
import { GroupCommit } from '../src/adapters/store/sqlite/sqlite-group-commit.js';

function setup() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE done (item TEXT PRIMARY KEY)');
  const insert = db.prepare<[string]>('INSERT INTO done (item) VALUES (?)');
  const commit = new GroupCommit(db);
  let togetherCalls = 0;
  const jobs = new CoalescedJobs<string, string>(
    commit,
    (items) => {
      togetherCalls++;
      return items.map((item) => {
        if (item.startsWith('bad')) throw new Error(`${item} refused`);
        insert.run(item);
        return `${item} done`;
      });
    },
    (item) => {
      if (item.startsWith('bad')) throw new Error(`${item} refused`);
      insert.run(item);
      return `${item} alone`;
    },
  );
  const stored = () => (db.prepare('SELECT item FROM done ORDER BY item').pluck().all() as string[]);
  return { jobs, stored, togetherCalls: () => togetherCalls, close: () => db.close() };
}

test('requests submitted in one turn run as one job and each gets its own answer', async () => {
  const { jobs, stored, togetherCalls, close } = setup();
  const answers = await Promise.all(['a', 'b', 'c'].map((item) => jobs.submit(item)));
  assert.deepEqual(answers, ['a done', 'b done', 'c done']);
  assert.equal(togetherCalls(), 1);
  assert.deepEqual(stored(), ['a', 'b', 'c']);
  // A later turn starts a new job.
  assert.equal(await jobs.submit('d'), 'd done');
  assert.equal(togetherCalls(), 2);
  close();
});

test('when the joint job fails, each request runs alone: only the bad one fails and nothing is written twice', async () => {
  const { jobs, stored, close } = setup();
  const outcomes = await Promise.allSettled(['a', 'bad1', 'c'].map((item) => jobs.submit(item)));
  assert.deepEqual(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)), ['a alone', 'bad1 refused', 'c alone']);
  assert.deepEqual(stored(), ['a', 'c'], 'the joint job was rolled back; the lone ones committed');
  close();
});
