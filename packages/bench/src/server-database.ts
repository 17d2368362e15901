import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A fresh PostgreSQL database for one benchmark server, dropped when it stops. */
export class ServerDatabase {
  private constructor(
    private readonly adminUrl: string,
    private readonly name: string,
    readonly url: string,
  ) {}

  static async create(adminUrl: string): Promise<ServerDatabase> {
    const name = `courier_bench_${randomBytes(6).toString('hex')}`;
    await ServerDatabase.admin(adminUrl, `CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return new ServerDatabase(adminUrl, name, url.toString());
  }

  drop(): Promise<void> {
    return ServerDatabase.admin(this.adminUrl, `DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }

  private static async admin(adminUrl: string, sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}
