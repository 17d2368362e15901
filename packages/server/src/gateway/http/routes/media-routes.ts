import type { FastifyInstance } from 'fastify';
import type { MediaService } from '../../../services/media-service.js';
import type { RegistrationService } from '../../../services/registration-service.js';

/** STUB: to be written (media helper). */
export function mediaRoutes(_app: FastifyInstance, _registration: RegistrationService, _media: MediaService): void {}
