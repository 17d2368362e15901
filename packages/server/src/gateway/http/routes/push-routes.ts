import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeviceAddress } from '../../../domain/device.js';
import type { PushService } from '../../../services/push/push-service.js';
import type { RegistrationService } from '../../../services/registration-service.js';
import { requireDevice } from '../authenticate.js';

const VapidKey = Type.Object({ publicKey: Type.String() });

/**
 * `GET /v1/push/vapid`, and `PUT`/`DELETE /v1/devices/me/push`: the calling device's push target.
 * The body's shape is checked by the service, so every mistake in it answers `invalid_push`.
 */
export function pushRoutes(app: FastifyInstance, registration: RegistrationService, push: PushService): void {
  // Authentication before the body is looked at: without a token, 401 whatever was sent.
  const devices = new WeakMap<FastifyRequest, DeviceAddress>();
  const onRequest = async (request: FastifyRequest) => {
    devices.set(request, await requireDevice(request, registration));
  };
  const deviceOf = (request: FastifyRequest) => devices.get(request)!;

  app.get('/v1/push/vapid', { schema: { response: { 200: VapidKey } } }, async () => ({ publicKey: push.vapidPublicKey }));

  app.put('/v1/devices/me/push', { onRequest }, async (request, reply) => {
    await push.setTarget(deviceOf(request), request.body);
    return reply.status(204).send();
  });

  app.delete('/v1/devices/me/push', { onRequest }, async (request, reply) => {
    await push.removeTarget(deviceOf(request));
    return reply.status(204).send();
  });
}
