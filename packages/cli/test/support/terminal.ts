/**
 * One person's terminal for a test: a temporary COURIER_HOME (profiles never touch the real home
 * directory) and COURIER_SERVER pointing at the test's server, plus `register` done as a person
 * does it: run the command, wait for the `code:` prompt, type the code from the SMS.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCourier, show, startCourier, type CliOptions, type CliProcess, type CliResult } from './cli.js';
import type { CourierServer } from './server.js';

let phoneCounter = 0;
/** A fresh E.164 phone number for a test. */
export function newPhone(): string {
  phoneCounter++;
  return `+1555${String(process.pid % 1000).padStart(3, '0')}${String(phoneCounter).padStart(4, '0')}${Math.floor(Math.random() * 10)}`;
}

export class Terminal {
  private constructor(
    readonly home: string,
    readonly server: CourierServer,
  ) {}

  static async open(server: CourierServer): Promise<Terminal> {
    return new Terminal(await mkdtemp(join(tmpdir(), 'courier-cli-test-home-')), server);
  }

  /** Where the CLI keeps its profiles (COURIER_HOME); a subfolder, so the CLI creates it itself. */
  get courierHome(): string {
    return join(this.home, 'courier');
  }

  options(extra: CliOptions = {}): CliOptions {
    return { cwd: this.home, ...extra, env: { COURIER_HOME: this.courierHome, COURIER_SERVER: this.server.url, ...extra.env } };
  }

  run(args: string[], extra: CliOptions & { input?: string } = {}): Promise<CliResult> {
    return runCourier(args, { ...this.options(extra), ...(extra.input === undefined ? {} : { input: extra.input }) });
  }

  start(args: string[], extra: CliOptions = {}): CliProcess {
    return startCourier(args, this.options(extra));
  }

  /** `courier register <phone> --profile <profile>`, typing the code when asked. */
  async register(phone: string, profile: string): Promise<CliResult> {
    const child = this.start(['register', phone, '--profile', profile]);
    await child.waitFor('stdout', /code: $/);
    child.write(`${await this.server.codeFor(phone)}\n`);
    const result = await child.exited;
    assert.equal(result.code, 0, show(result));
    return result;
  }

  /** `courier listen --profile <profile>`, returned once it says it is listening. */
  async listen(profile: string, args: string[] = []): Promise<CliProcess> {
    const child = this.start(['listen', '--profile', profile, ...args], { deadlineMs: 45_000 });
    await child.waitFor('stderr', /listening as /);
    return child;
  }

  async close(): Promise<void> {
    await rm(this.home, { recursive: true, force: true });
  }
}
