import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { RegistrationService } from '../../../services/registration-service.js';

// Phone and code are checked by the service so that a malformed one answers invalid_phone/invalid_code.
const RequestBody = Type.Object({ phone: Type.Optional(Type.Unknown()) });
const VerifyBody = Type.Object({ phone: Type.Optional(Type.Unknown()), code: Type.Optional(Type.Unknown()) });

export function registrationRoutes(app: FastifyInstance, registration: RegistrationService): void {
  app.post<{ Body: { phone: unknown } }>(
    '/v1/register/request',
    {
      schema: {
        body: RequestBody,
        response: { 202: Type.Object({ expiresIn: Type.Integer() }) },
      },
    },
    async (request, reply) => reply.status(202).send(await registration.requestCode(request.body.phone, request.ip)),
  );

  app.post<{ Body: { phone: unknown; code: unknown } }>(
    '/v1/register/verify',
    {
      schema: {
        body: VerifyBody,
        response: { 200: Type.Object({ userId: Type.String(), token: Type.String(), deviceId: Type.Integer() }) },
      },
    },
    async (request) => registration.verify(request.body.phone, request.body.code, request.ip),
  );
}
