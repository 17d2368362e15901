import type { FastifyInstance } from 'fastify';
import type { NodeMetrics } from '../../../observability/metrics.js';

/** `GET /metrics`: Prometheus text, without auth (expose the port to the scraper only). */
export function metricsRoutes(app: FastifyInstance, metrics: NodeMetrics): void {
  app.get('/metrics', async (_request, reply) => {
    const { text, contentType } = await metrics.render();
    return reply.header('content-type', contentType).send(text);
  });
}
