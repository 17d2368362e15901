import type { FastifyInstance } from 'fastify';
import type { GroupService } from '../../../services/group-service.js';
import type { RegistrationService } from '../../../services/registration-service.js';

/** STUB: to be written (groups helper). */
export function groupRoutes(_app: FastifyInstance, _registration: RegistrationService, _groups: GroupService): void {}
