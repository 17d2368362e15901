import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PrivacyService } from '../../../services/privacy-service.js';
import type { RegistrationService } from '../../../services/registration-service.js';
import { requireUser } from '../authenticate.js';

const BlockParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) });
const BlockList = Type.Object({ blocked: Type.Array(Type.String()) });
// The value is checked by the service, for its own error code and sentence.
const PrivacyBody = Type.Object({ presence: Type.Optional(Type.Unknown()) });

/** `PUT/DELETE /v1/blocks/<userId>`, `GET /v1/blocks`, `PUT /v1/privacy`, `DELETE /v1/account`. */
export function privacyRoutes(app: FastifyInstance, registration: RegistrationService, privacy: PrivacyService): void {
  // Authentication runs before the body is parsed, as for the group routes.
  const users = new WeakMap<FastifyRequest, string>();
  const onRequest = async (request: FastifyRequest) => {
    users.set(request, await requireUser(request, registration));
  };
  const userOf = (request: FastifyRequest) => users.get(request)!;

  app.put<{ Params: Static<typeof BlockParams> }>(
    '/v1/blocks/:userId',
    { onRequest, schema: { params: BlockParams } },
    async (request, reply) => {
      await privacy.block(userOf(request), request.params.userId);
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: Static<typeof BlockParams> }>(
    '/v1/blocks/:userId',
    { onRequest, schema: { params: BlockParams } },
    async (request, reply) => {
      await privacy.unblock(userOf(request), request.params.userId);
      return reply.status(204).send();
    },
  );

  app.get('/v1/blocks', { onRequest, schema: { response: { 200: BlockList } } }, async (request) => ({
    blocked: await privacy.blocked(userOf(request)),
  }));

  app.put<{ Body: Static<typeof PrivacyBody> }>(
    '/v1/privacy',
    { onRequest, schema: { body: PrivacyBody } },
    async (request, reply) => {
      await privacy.setPresenceVisibility(userOf(request), request.body.presence);
      return reply.status(204).send();
    },
  );

  app.delete('/v1/account', { onRequest }, async (request, reply) => {
    await privacy.deleteAccount(userOf(request));
    return reply.status(204).send();
  });
}
