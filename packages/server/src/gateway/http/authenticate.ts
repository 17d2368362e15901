import type { FastifyRequest } from 'fastify';
import type { DeviceAddress } from '../../domain/device.js';
import { CourierError } from '../../domain/errors.js';
import type { RegistrationService } from '../../services/registration-service.js';

/** The device of a request's `Authorization: Bearer <token>`, or a 401 `unauthorized`. */
export async function requireDevice(request: FastifyRequest, registration: RegistrationService): Promise<DeviceAddress> {
  const header = request.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  const identity = token ? await registration.authenticate(token) : undefined;
  if (identity === undefined) {
    throw new CourierError('unauthorized', 'A valid "Authorization: Bearer <token>" header is required.', 401);
  }
  return { userId: identity.userId, deviceId: identity.deviceId };
}

/** The user of a request's `Authorization: Bearer <token>` (any of its devices), or a 401 `unauthorized`. */
export async function requireUser(request: FastifyRequest, registration: RegistrationService): Promise<string> {
  return (await requireDevice(request, registration)).userId;
}
