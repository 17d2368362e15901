import type { FastifyInstance } from 'fastify';
import type { HealthService } from '../../../services/health-service.js';

export function healthRoutes(app: FastifyInstance, health: HealthService): void {
  app.get('/healthz', async () => health.liveness());

  app.get('/readyz', async (_request, reply) => {
    const { ready, checks } = await health.readiness();
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
}
