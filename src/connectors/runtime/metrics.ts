import { Counter, Gauge, Registry } from 'prom-client';

/**
 * Prometheus metrics of the connector runtime, per connector kind, tenant and stream. Served at `/metrics`.
 * One registry per runtime (not the global one), so tests and several workspaces in one process don't clash.
 */
export class ConnectorMetrics {
  readonly registry = new Registry();
  private readonly labels = ['connector', 'tenant', 'stream'] as const;

  readonly requests = new Counter({
    name: 'vigil_connector_requests_total',
    help: 'Requests to source APIs, by outcome (ok, or the failure reason).',
    labelNames: [...this.labels, 'operation', 'outcome'],
    registers: [this.registry],
  });
  readonly pages = new Counter({
    name: 'vigil_connector_pages_total',
    help: 'Listing pages read.',
    labelNames: this.labels,
    registers: [this.registry],
  });
  readonly contents = new Counter({
    name: 'vigil_connector_contents_total',
    help: 'Content blobs finished, by outcome (written, expired, missing).',
    labelNames: [...this.labels, 'outcome'],
    registers: [this.registry],
  });
  readonly records = new Counter({
    name: 'vigil_connector_records_total',
    help: 'Records handled, by result (written, duplicate, quarantined).',
    labelNames: [...this.labels, 'result'],
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'vigil_connector_bytes_total',
    help: 'Bytes of content downloaded.',
    labelNames: this.labels,
    registers: [this.registry],
  });
  readonly lagSeconds = new Gauge({
    name: 'vigil_connector_lag_seconds',
    help: 'Now minus the end of the last fully processed listing window.',
    labelNames: this.labels,
    registers: [this.registry],
  });
  readonly healthy = new Gauge({
    name: 'vigil_connector_healthy',
    help: '1 when the last poll succeeded, 0 when it failed.',
    labelNames: this.labels,
    registers: [this.registry],
  });
}
