import { DomainError } from '../errors.js';

/**
 * What `/api/v2.0/health` reports (Harbor's OverallHealthStatus) and what `/api/v2.0/ping` needs to know
 * (whether the instance is draining).
 *
 * Checks run at most once per `cacheMs` however often balancers and monitors ask, all at once, each
 * bounded by `timeoutMs`; concurrent callers share one run. `core` is this process: healthy unless it is
 * draining for shutdown, which is also what makes ping answer 503.
 *
 * Errors are reported as short reasons (the domain message, a socket error code, "no answer within
 * N ms"), never with addresses or credentials: the route needs no authentication, as in Harbor.
 */
export interface ComponentCheck {
  /** Harbor's component name: database, redis, storage, jobservice. */
  name: string;
  /** Resolves when the component works; rejects with why it does not. */
  check(): Promise<void>;
}

export interface ComponentHealth {
  name: string;
  status: 'healthy' | 'unhealthy';
  error?: string;
}

export interface OverallHealth {
  status: 'healthy' | 'unhealthy';
  components: ComponentHealth[];
}

export interface HealthServiceOptions {
  checks: ComponentCheck[];
  /** How long one result is reused; default 1 s. */
  cacheMs?: number;
  /** A check that has not answered after this long is unhealthy; default 2 s. */
  timeoutMs?: number;
  /** Told about every failed check with the full error (for the log); the answer carries a short reason. */
  onFailure?: (name: string, error: unknown) => void;
  now?: () => number;
}

const SOCKET_CODE = /^E[A-Z]+$/;

export class HealthService {
  readonly #checks: ComponentCheck[];
  readonly #cacheMs: number;
  readonly #timeoutMs: number;
  readonly #onFailure: (name: string, error: unknown) => void;
  readonly #now: () => number;
  #draining = false;
  #last: { at: number; components: Promise<ComponentHealth[]> } | undefined;

  constructor(options: HealthServiceOptions) {
    this.#checks = options.checks;
    this.#cacheMs = options.cacheMs ?? 1_000;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#onFailure = options.onFailure ?? (() => undefined);
    this.#now = options.now ?? Date.now;
  }

  /** True from drain() on: the instance is shutting down and should get no new requests. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Marks the instance as leaving: ping answers 503 and health reports core unhealthy from now on. */
  drain(): void {
    this.#draining = true;
  }

  async health(): Promise<OverallHealth> {
    const now = this.#now();
    if (this.#last === undefined || now - this.#last.at >= this.#cacheMs) {
      this.#last = { at: now, components: this.#runChecks() };
    }
    const core: ComponentHealth = this.#draining
      ? { name: 'core', status: 'unhealthy', error: 'shutting down: draining in-flight requests' }
      : { name: 'core', status: 'healthy' };
    const components = [core, ...(await this.#last.components)];
    const healthy = components.every((component) => component.status === 'healthy');
    return { status: healthy ? 'healthy' : 'unhealthy', components };
  }

  #runChecks(): Promise<ComponentHealth[]> {
    return Promise.all(this.#checks.map((check) => this.#run(check)));
  }

  async #run(component: ComponentCheck): Promise<ComponentHealth> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CheckTimeout(`no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      timer.unref();
    });
    try {
      await Promise.race([component.check(), timeout]);
      return { name: component.name, status: 'healthy' };
    } catch (error) {
      this.#onFailure(component.name, error);
      return { name: component.name, status: 'unhealthy', error: reason(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

class CheckTimeout extends Error {}

/** A short, address-free reason. */
function reason(error: unknown): string {
  if (error instanceof DomainError || error instanceof CheckTimeout) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && SOCKET_CODE.test(code)) return code;
  return 'check failed';
}
