import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../../observability/logger.js';

/**
 * The web client at `/`: the files `courier-chat-web` ships prebuilt in its `dist/app`, found
 * through the package resolver (wherever npm installed it), so serving needs no build step.
 * Hashed assets are cached for good; `index.html` is revalidated so a new version shows at once.
 */
export async function webRoutes(app: FastifyInstance, logger: Logger): Promise<void> {
  const root = webClientRoot();
  if (root === undefined) {
    logger.warn('the web client is not built (run `npm run build`): serving the API only');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    index: 'index.html',
    // Our own Cache-Control below, instead of the plugin's max-age=0 for everything.
    cacheControl: false,
    setHeaders(response, path) {
      const immutable = path.includes(`${sep}assets${sep}`);
      response.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}

/** `dist/app` of the installed `courier-chat-web`, if it is installed and built. */
export function webClientRoot(): string | undefined {
  let packageJson: string;
  try {
    packageJson = fileURLToPath(import.meta.resolve('courier-chat-web/package.json'));
  } catch (err) {
    // Not installed (e.g. a server-only install): there is nothing to serve, which the caller reports.
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
  const root = join(dirname(packageJson), 'dist', 'app');
  return existsSync(join(root, 'index.html')) ? root : undefined;
}
