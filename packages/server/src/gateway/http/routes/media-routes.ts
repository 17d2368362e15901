import { Type } from '@sinclair/typebox';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CourierError } from '../../../domain/errors.js';
import type { MediaService } from '../../../services/media-service.js';
import { mediaTypeOf } from '../../../services/media-type.js';
import type { RegistrationService } from '../../../services/registration-service.js';
import { requireUser } from '../authenticate.js';
import { parseRange } from './byte-range.js';
import { detachedBody } from './detached-body.js';

const Uploaded = Type.Object({ hash: Type.String(), size: Type.Integer(), mime: Type.String() });
/** Blobs never change under their hash, so a client may keep them as long as it likes. */
const CACHE_CONTROL = 'private, max-age=31536000, immutable';

/**
 * `POST /v1/media` (raw bytes in, `201 {hash, size, mime}` out) and `GET`/`HEAD /v1/media/<hash>`.
 * They live in a plugin of their own so that the raw-body parser they need stays out of the
 * JSON routes.
 */
export function mediaRoutes(app: FastifyInstance, registration: RegistrationService, media: MediaService): void {
  const uploads = new WeakMap<FastifyRequest, { userId: string; allowance: number }>();
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Any media type is welcome; the body is handed over unread so that it streams to the blob store.
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.addHook('onResponse', async (request) => lingerUntilBodyEnds(request.raw));

    scope.post(
      '/v1/media',
      {
        onRequest: async (request) => {
          const userId = await requireUser(request, registration);
          // Checked before Fastify parses the header; what passes here (a subset of RFC 9110
          // tokens) Fastify accepts too, so it never answers its own 415.
          mediaTypeOf(request.headers['content-type']);
          const header = request.headers['content-length'];
          const declared = header === undefined ? undefined : Number(header);
          if (declared !== undefined && declared > media.maxBytes) throw tooLarge(media.maxBytes);
          uploads.set(request, { userId, allowance: await media.allowance(userId, declared) });
        },
        schema: { response: { 201: Uploaded } },
      },
      async (request, reply) => {
        const { userId, allowance } = uploads.get(request)!;
        const stored = await media.upload(detachedBody(request.raw), mediaTypeOf(request.headers['content-type']), userId, allowance);
        return reply.status(201).send(stored);
      },
    );

    const download = async (request: FastifyRequest<{ Params: { hash: string } }>, reply: FastifyReply) => {
      const userId = await requireUser(request, registration);
      // A blob this user may not fetch answers exactly as an unknown one: its existence is not told.
      const found = await media.find(request.params.hash, userId);
      if (found === undefined) throw new CourierError('not_found', `No media with hash ${request.params.hash}.`, 404);
      const etag = `"${found.hash}"`;
      void reply
        .header('etag', etag)
        .header('cache-control', CACHE_CONTROL)
        .header('accept-ranges', 'bytes')
        .header('x-content-type-options', 'nosniff');
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.status(304).send();

      const ifRange = request.headers['if-range'];
      const range = ifRange === undefined || ifRange === etag ? parseRange(request.headers.range, found.size) : undefined;
      if (range === 'unsatisfiable') {
        return reply
          .status(416)
          .header('content-range', `bytes */${found.size}`)
          .send({ error: { code: 'range_not_satisfiable', message: `The blob has ${found.size} bytes.` } });
      }
      void reply.header('content-type', found.mime);
      if (range !== undefined) {
        void reply
          .status(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${found.size}`)
          .header('content-length', range.end - range.start + 1);
      } else {
        void reply.header('content-length', found.size);
      }
      // HEAD answers the same headers without opening the file.
      if (request.method === 'HEAD') return reply.send();
      return reply.send(media.read(found.hash, range));
    };
    scope.get('/v1/media/:hash', { exposeHeadRoute: false }, download);
    scope.head('/v1/media/:hash', download);
  });
}

/** How long the rest of a refused upload is read and dropped before its connection is cut. */
const LINGER_MS = 3000;

/**
 * After an answer sent before the whole body arrived (401, 413, ...): reads and drops the rest
 * for a while, then cuts the connection. Closing at once would reset the connection under a
 * client still sending, and the reset can destroy the answer before the client reads it;
 * reading on forever would let one client waste the node's bandwidth. A client that finishes
 * within the time keeps its connection.
 */
function lingerUntilBodyEnds(request: IncomingMessage): void {
  if (request.complete) return;
  request.resume();
  setTimeout(() => {
    if (!request.complete) request.socket.destroy();
  }, LINGER_MS).unref();
}

function tooLarge(maxBytes: number): CourierError {
  return new CourierError('too_large', `Media is limited to ${maxBytes} bytes.`, 413);
}

/** Whether `If-None-Match` names this entity tag (weak comparison, as RFC 9110 §13.1.2 asks). */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}
