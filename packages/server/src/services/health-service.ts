import type { Bus } from '../ports/bus.js';
import type { Store } from '../ports/store.js';

/** Is this node alive, and can it serve? Alerts come from whoever watches the queues. */
export class HealthService {
  private draining = false;

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly firingAlerts: () => string[] = () => [],
  ) {}

  startDraining(): void {
    this.draining = true;
  }

  liveness(): { status: 'ok' } | { status: 'degraded'; alerts: string[] } {
    const alerts = this.firingAlerts();
    return alerts.length === 0 ? { status: 'ok' } : { status: 'degraded', alerts };
  }

  /** Ready when the store and bus answer and the node is not draining; otherwise says why. */
  async readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    const probe = async (name: string, ping: () => Promise<void>) => {
      try {
        await withTimeout(ping(), 2000);
        checks[name] = 'ok';
      } catch (err) {
        checks[name] = `unreachable: ${(err as Error).message}`;
      }
    };
    await Promise.all([probe('store', () => this.store.ping()), probe('bus', () => this.bus.ping())]);
    checks.draining = this.draining ? 'yes' : 'no';
    return { ready: !this.draining && checks.store === 'ok' && checks.bus === 'ok', checks };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
