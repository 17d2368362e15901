import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeviceAddress } from '../../../domain/device.js';
import type { DeviceService } from '../../../services/device-service.js';
import type { RegistrationService } from '../../../services/registration-service.js';
import { requireDevice } from '../authenticate.js';

// The name and the code are checked by the service, for their own error codes.
const LinkBody = Type.Object({ name: Type.Optional(Type.Unknown()) });
const LinkCreated = Type.Object({ linkCode: Type.String(), pollToken: Type.String(), expiresIn: Type.Integer() });
const ApproveBody = Type.Object({ linkCode: Type.Optional(Type.Unknown()) });
const Approved = Type.Object({ deviceId: Type.Integer(), name: Type.String() });
const PollParams = Type.Object({ pollToken: Type.String({ minLength: 1, maxLength: 128 }) });
const PollQuery = Type.Object({ wait: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) });
const Linked = Type.Object({ userId: Type.String(), deviceId: Type.Integer(), token: Type.String() });
const Pending = Type.Object({ status: Type.Literal('pending') });
const DeviceParams = Type.Object({ deviceId: Type.String({ pattern: '^[0-9]{1,9}$' }) });
const DeviceList = Type.Object({
  devices: Type.Array(
    Type.Object({
      deviceId: Type.Integer(),
      name: Type.String(),
      primary: Type.Boolean(),
      linkedAt: Type.Integer(),
      lastSeen: Type.Integer(),
      online: Type.Boolean(),
    }),
  ),
});

/** Linking a device (three steps), the account's device list, and removing a device. */
export function deviceRoutes(app: FastifyInstance, registration: RegistrationService, devices: DeviceService): void {
  // Authentication runs before the body is parsed and validated, as for groups.
  const callers = new WeakMap<FastifyRequest, DeviceAddress>();
  const onRequest = async (request: FastifyRequest) => {
    callers.set(request, await requireDevice(request, registration));
  };
  const callerOf = (request: FastifyRequest) => callers.get(request)!;

  app.post<{ Body: Static<typeof LinkBody> }>(
    '/v1/devices/link',
    { schema: { body: LinkBody, response: { 201: LinkCreated } } },
    async (request, reply) => reply.status(201).send(await devices.requestLink(request.body.name, request.ip)),
  );

  app.post<{ Body: Static<typeof ApproveBody> }>(
    '/v1/devices/link/approve',
    { onRequest, schema: { body: ApproveBody, response: { 200: Approved } } },
    async (request) => devices.approve(callerOf(request), request.body.linkCode),
  );

  app.get<{ Params: Static<typeof PollParams>; Querystring: Static<typeof PollQuery> }>(
    '/v1/devices/link/:pollToken',
    { schema: { params: PollParams, querystring: PollQuery, response: { 200: Linked, 202: Pending } } },
    async (request, reply) => {
      // A client that hangs up stops the wait: nobody is left to answer.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const answer = await devices.poll(request.params.pollToken, Number(request.query.wait ?? 0), gone.signal);
      if (answer.status === 'pending') return reply.status(202).send(answer);
      const { userId, deviceId, token } = answer;
      return reply.status(200).send({ userId, deviceId, token });
    },
  );

  app.get('/v1/devices', { onRequest, schema: { response: { 200: DeviceList } } }, async (request) => ({
    devices: await devices.list(callerOf(request)),
  }));

  app.delete<{ Params: Static<typeof DeviceParams> }>(
    '/v1/devices/:deviceId',
    { onRequest, schema: { params: DeviceParams } },
    async (request, reply) => {
      await devices.remove(callerOf(request), Number(request.params.deviceId));
      return reply.status(204).send();
    },
  );
}
