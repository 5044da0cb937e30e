/**
 * The Mailmeter client. Each method returns the `data` of the API's `{ success, data }`
 * envelope and throws a typed error (errors.ts) otherwise. Every method takes
 * `{ apiKey }` as its last argument so one client can act for many tenants (seed 000).
 */
import { errorFromResponse, IdempotencyError, MailmeterError, NetworkError, RateLimitError } from './errors';
import { backoffDelay, DEFAULT_RETRY, isRetryable, type RetryOptions } from './retry';
import type {
  Account,
  AdminDomain,
  AdminDomainList,
  AssignDomainRequest,
  BatchEmailRequest,
  BatchEmailResult,
  BillingPage,
  BulkEmailRequest,
  BulkEmailResult,
  CreateDomainRequest,
  CreatedKey,
  CreatedTenant,
  CreatedWebhook,
  CreateTemplateRequest,
  CreateTenantRequest,
  CreateWebhookRequest,
  Dashboard,
  Domain,
  DomainList,
  DomainStatus,
  DriftReport,
  Email,
  Job,
  JobList,
  JobListParams,
  ListParams,
  Quota,
  RecipientPage,
  RecipientStatus,
  RescheduleEmailRequest,
  Reputation,
  RotatedWebhookSecret,
  SendEmailRequest,
  SendEmailResult,
  Stats,
  StatsParams,
  Suppression,
  SuppressionList,
  SuppressionsParams,
  Template,
  TemplateList,
  TemplateStats,
  Tenant,
  TenantDetails,
  TenantList,
  UpdateTemplateRequest,
  UpdateTenantRequest,
  UpdateWebhookRequest,
  Usage,
  UsageExport,
  UsageParams,
  Webhook,
  WebhookDeliveriesParams,
  WebhookDeliveryList,
  WebhookList,
  WebhookReplayRequest,
  WebhookReplayResult,
  WebhookTestResult,
} from './types';

export interface MailmeterOptions {
  /** Default key for every call; a call's `{ apiKey }` overrides it. */
  apiKey?: string;
  /** The API's base URL, including the stage path on API Gateway (`https://…/dev`). */
  baseUrl: string;
  retry?: Partial<RetryOptions>;
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof fetch;
}

/** The last argument of every method. */
export interface RequestOptions {
  apiKey?: string;
  signal?: AbortSignal;
}

/** The last argument of the send methods. */
export interface SendOptions extends RequestOptions {
  /**
   * Makes the send safe to repeat for 24 h (1–256 printable ASCII characters, per tenant). The
   * client generates one for every send when none is given and keeps it across its own retries;
   * pass your own (an order id, say) to make your retries, across processes, safe too.
   */
  idempotencyKey?: string;
}

type Query = Record<string, string | number | undefined>;

export class Mailmeter {
  private readonly apiKey: string | undefined;
  private readonly baseUrl: string;
  private readonly retry: RetryOptions;
  private readonly fetchImpl: typeof fetch;

  constructor(options: MailmeterOptions) {
    if (!options.baseUrl) throw new TypeError('Mailmeter: baseUrl is required');
    this.apiKey = options.apiKey;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    for (const [name, value] of Object.entries(this.retry)) {
      if (!Number.isFinite(value) || value < 0) throw new TypeError(`Mailmeter: retry.${name} must be a number ≥ 0`);
    }
    // Bound to globalThis: browsers throw "Illegal invocation" when fetch is called as a method.
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  readonly dashboard = {
    get: (options?: RequestOptions) => this.request<Dashboard>('GET', '/v1/dashboard', options),
    quota: (options?: RequestOptions) => this.request<Quota>('GET', '/v1/dashboard/quota', options),
  };

  readonly usage = {
    get: (params: UsageParams = {}, options?: RequestOptions) =>
      this.request<Usage>('GET', '/v1/usage', options, { query: { period: params.period } }),
  };

  readonly stats = {
    get: (params: StatsParams = {}, options?: RequestOptions) =>
      this.request<Stats>('GET', '/v1/stats', options, { query: { range: params.range } }),
  };

  readonly reputation = {
    get: (options?: RequestOptions) => this.request<Reputation>('GET', '/v1/reputation', options),
  };

  readonly email = {
    send: (body: SendEmailRequest, options?: SendOptions) =>
      this.request<SendEmailResult>('POST', '/v1/emails', options, { body, idempotencyKey: idempotencyKeyOf(options) }),
    bulk: (body: BulkEmailRequest, options?: SendOptions) =>
      this.request<BulkEmailResult>('POST', '/v1/emails/bulk', options, { body, idempotencyKey: idempotencyKeyOf(options) }),
    /** Up to 100 different emails; all are checked before any is accepted. One job per email, in order. */
    batch: (body: BatchEmailRequest, options?: SendOptions) =>
      this.request<BatchEmailResult>('POST', '/v1/emails/batch', options, { body, idempotencyKey: idempotencyKeyOf(options) }),
    /** One email's story: status, from, to, subject, SES message id and its events (the id POST /v1/emails answered). */
    get: (id: string, options?: RequestOptions) => this.request<Email>('GET', `/v1/emails/${seg(id)}`, options),
    /** Cancels a scheduled or still queued email (409 ConflictError once it was sent); answers the email, `status: 'canceled'`. */
    cancel: (id: string, options?: RequestOptions) => this.request<Email>('POST', `/v1/emails/${seg(id)}/cancel`, options),
    /** Moves a scheduled email to `scheduledAt` (ISO 8601, ≤ 30 days ahead; a past time sends it now). */
    reschedule: (id: string, body: RescheduleEmailRequest, options?: RequestOptions) =>
      this.request<Email>('PATCH', `/v1/emails/${seg(id)}`, options, { body }),
  };

  readonly jobs = {
    get: (id: string, options?: RequestOptions) => this.request<Job>('GET', `/v1/jobs/${seg(id)}`, options),
    /** A job's recipients in request order with their send status, 100 a page; `status` filters. */
    recipients: (id: string, params: { status?: RecipientStatus; cursor?: string } = {}, options?: RequestOptions) =>
      this.request<RecipientPage>('GET', `/v1/jobs/${seg(id)}/recipients`, options, { query: { status: params.status, cursor: params.cursor } }),
    /** `status` (e.g. `scheduled`) filters each page read: a page can be short; follow `nextCursor`. */
    list: (params: JobListParams = {}, options?: RequestOptions) =>
      this.request<JobList>('GET', '/v1/jobs', options, { query: { limit: params.limit, cursor: params.cursor, status: params.status } }),
    /** Cancels what of a scheduled, queued or sending job is not yet handed to SES (409 ConflictError once it finished). */
    cancel: (id: string, options?: RequestOptions) => this.request<Job>('POST', `/v1/jobs/${seg(id)}/cancel`, options),
  };

  readonly templates = {
    create: (body: CreateTemplateRequest, options?: RequestOptions) =>
      this.request<Template>('POST', '/v1/templates', options, { body }),
    list: (params: ListParams = {}, options?: RequestOptions) =>
      this.request<TemplateList>('GET', '/v1/templates', options, {
        query: { limit: params.limit, cursor: params.cursor },
      }),
    get: (id: string, options?: RequestOptions) => this.request<Template>('GET', `/v1/templates/${seg(id)}`, options),
    update: (id: string, body: UpdateTemplateRequest, options?: RequestOptions) =>
      this.request<Template>('PATCH', `/v1/templates/${seg(id)}`, options, { body }),
    delete: (id: string, options?: RequestOptions) =>
      this.request<void>('DELETE', `/v1/templates/${seg(id)}`, options),
    stats: (options?: RequestOptions) => this.request<TemplateStats>('GET', '/v1/templates/stats', options),
  };

  /** Sending domains: add one, publish its `records` in DNS, and send from it once it is `verified`. */
  readonly domains = {
    create: (body: CreateDomainRequest, options?: RequestOptions) => this.request<Domain>('POST', '/v1/domains', options, { body }),
    list: (params: ListParams = {}, options?: RequestOptions) =>
      this.request<DomainList>('GET', '/v1/domains', options, { query: { limit: params.limit, cursor: params.cursor } }),
    get: (id: string, options?: RequestOptions) => this.request<Domain>('GET', `/v1/domains/${seg(id)}`, options),
    /** Asks SES now (the schedule also looks at pending domains by itself). */
    verify: (id: string, options?: RequestOptions) => this.request<Domain>('POST', `/v1/domains/${seg(id)}/verify`, options),
    remove: (id: string, options?: RequestOptions) => this.request<void>('DELETE', `/v1/domains/${seg(id)}`, options),
  };

  /** The suppression list: addresses that hard-bounced, complained or were added by hand are never sent to. */
  readonly suppressions = {
    list: (params: SuppressionsParams = {}, options?: RequestOptions) =>
      this.request<SuppressionList>('GET', '/v1/suppressions', options, { query: { reason: params.reason, limit: params.limit, cursor: params.cursor } }),
    /** Throws NotFoundError when the address is not suppressed. */
    get: (email: string, options?: RequestOptions) => this.request<Suppression>('GET', `/v1/suppressions/${seg(email)}`, options),
    /** Idempotent: an address already suppressed keeps its entry. */
    add: (email: string, options?: RequestOptions) => this.request<Suppression>('POST', '/v1/suppressions', options, { body: { email, reason: 'manual' } }),
    /** The address can be sent to again. */
    remove: (email: string, options?: RequestOptions) => this.request<void>('DELETE', `/v1/suppressions/${seg(email)}`, options),
  };

  /** Webhook endpoints: events pushed to your URL, signed (verify with `verifyWebhook`), retried for a day. */
  readonly webhooks = {
    /** The answer's `secret` is shown only here. */
    create: (body: CreateWebhookRequest, options?: RequestOptions) => this.request<CreatedWebhook>('POST', '/v1/webhooks', options, { body }),
    list: (options?: RequestOptions) => this.request<WebhookList>('GET', '/v1/webhooks', options),
    get: (id: string, options?: RequestOptions) => this.request<Webhook>('GET', `/v1/webhooks/${seg(id)}`, options),
    update: (id: string, body: UpdateWebhookRequest, options?: RequestOptions) => this.request<Webhook>('PATCH', `/v1/webhooks/${seg(id)}`, options, { body }),
    remove: (id: string, options?: RequestOptions) => this.request<void>('DELETE', `/v1/webhooks/${seg(id)}`, options),
    /** The old secret keeps signing alongside the new one for 24 h. */
    rotateSecret: (id: string, options?: RequestOptions) => this.request<RotatedWebhookSecret>('POST', `/v1/webhooks/${seg(id)}/rotate-secret`, options),
    test: (id: string, options?: RequestOptions) => this.request<WebhookTestResult>('POST', `/v1/webhooks/${seg(id)}/test`, options),
    deliveries: (id: string, params: WebhookDeliveriesParams = {}, options?: RequestOptions) =>
      this.request<WebhookDeliveryList>('GET', `/v1/webhooks/${seg(id)}/deliveries`, options, {
        query: { status: params.status, limit: params.limit, cursor: params.cursor },
      }),
    replay: (id: string, body: WebhookReplayRequest, options?: RequestOptions) => this.request<WebhookReplayResult>('POST', `/v1/webhooks/${seg(id)}/replay`, options, { body }),
  };

  readonly account = {
    get: (options?: RequestOptions) => this.request<Account>('GET', '/v1/account', options),
  };

  readonly admin = {
    tenants: {
      create: (body: CreateTenantRequest, options?: RequestOptions) =>
        this.request<CreatedTenant>('POST', '/v1/admin/tenants', options, { body }),
      get: (id: string, options?: RequestOptions) =>
        this.request<TenantDetails>('GET', `/v1/admin/tenants/${seg(id)}`, options),
      /** Deleted tenants only with `status: 'deleted'`. */
      list: (params: ListParams & { status?: 'active' | 'paused' | 'deleted' } = {}, options?: RequestOptions) =>
        this.request<TenantList>('GET', '/v1/admin/tenants', options, {
          query: { limit: params.limit, cursor: params.cursor, status: params.status },
        }),
      update: (id: string, body: UpdateTenantRequest, options?: RequestOptions) =>
        this.request<Tenant>('PATCH', `/v1/admin/tenants/${seg(id)}`, options, { body }),
      /** Its sends answer SendingPausedError and its queued jobs wait until `resume`. */
      pause: (id: string, reason: string, options?: RequestOptions) =>
        this.request<Tenant>('POST', `/v1/admin/tenants/${seg(id)}/pause`, options, { body: { reason } }),
      resume: (id: string, options?: RequestOptions) => this.request<Tenant>('POST', `/v1/admin/tenants/${seg(id)}/resume`, options),
      /**
       * Offboards the tenant: keys revoked, sends refused, queued units failed (TenantDeleted),
       * usage kept for billing until the stage's retention. Idempotent (a repeat resolves too).
       */
      delete: (id: string, options?: RequestOptions) => this.request<void>('DELETE', `/v1/admin/tenants/${seg(id)}`, options),
    },
    domains: {
      /** With `verified: true`: an identity the operator already verified in SES (never deleted from SES by Mailmeter). */
      assign: (tenantId: string, body: AssignDomainRequest, options?: RequestOptions) =>
        this.request<AdminDomain>('POST', `/v1/admin/tenants/${seg(tenantId)}/domains`, options, { body }),
      list: (params: ListParams & { status?: DomainStatus } = {}, options?: RequestOptions) =>
        this.request<AdminDomainList>('GET', '/v1/admin/domains', options, {
          query: { status: params.status, limit: params.limit, cursor: params.cursor },
        }),
    },
    usage: {
      /** The billing export: each tenant's billing period starting in `period` (YYYY-MM), 100 a page by default. */
      get: (params: { period: string; limit?: number; cursor?: string }, options?: RequestOptions) =>
        this.request<BillingPage>('GET', '/v1/admin/usage', options, { query: { period: params.period, limit: params.limit, cursor: params.cursor } }),
    },
    usageExports: {
      /** One CSV of every tenant in S3; answers with a pre-signed download URL. */
      create: (period: string, options?: RequestOptions) => this.request<UsageExport>('POST', '/v1/admin/usage-exports', options, { body: { period } }),
      get: (id: string, options?: RequestOptions) => this.request<UsageExport>('GET', `/v1/admin/usage-exports/${seg(id)}`, options),
    },
    reconciliation: {
      /** The counter reconciliation of a UTC day (YYYY-MM-DD). */
      get: (day: string, options?: RequestOptions) => this.request<DriftReport>('GET', '/v1/admin/reconciliation', options, { query: { day } }),
    },
    keys: {
      create: (tenantId: string, options?: RequestOptions) =>
        this.request<CreatedKey>('POST', `/v1/admin/tenants/${seg(tenantId)}/keys`, options),
      revoke: (tenantId: string, keyId: string, options?: RequestOptions) =>
        this.request<void>('DELETE', `/v1/admin/tenants/${seg(tenantId)}/keys/${seg(keyId)}`, options),
    },
  };

  private async request<T>(
    method: string,
    path: string,
    options: RequestOptions | undefined,
    extra: { query?: Query; body?: unknown; idempotencyKey?: string } = {},
  ): Promise<T> {
    const url = this.baseUrl + path + queryString(extra.query);
    const headers: Record<string, string> = { accept: 'application/json' };
    const apiKey = options?.apiKey ?? this.apiKey;
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    // One key for every attempt of this call: that is what makes its retries safe.
    if (extra.idempotencyKey !== undefined) headers['idempotency-key'] = extra.idempotencyKey;
    let body: string | undefined;
    if (extra.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(extra.body);
    }

    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(url, { method, headers, body, signal: options?.signal });
      } catch (error) {
        if (!(error instanceof MailmeterError) || attempt >= this.retry.maxRetries) throw error;
        if (!isRetryable(error, method, extra.idempotencyKey !== undefined) || options?.signal?.aborted) throw error;
        const retryAfter = error instanceof RateLimitError || error instanceof IdempotencyError ? error.retryAfter : undefined;
        const delay = backoffDelay(attempt, this.retry, retryAfter);
        if (delay === undefined) throw error;
        await sleep(delay);
      }
    }
  }

  private async once<T>(url: string, init: RequestInit): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, init);
    } catch (cause) {
      throw new NetworkError(`${init.method} ${url} failed: ${(cause as Error)?.message ?? String(cause)}`, cause);
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw errorFromResponse(response.status, response.headers, parsed);
    if (response.status === 204) return undefined as T;
    if (!parsed || typeof parsed !== 'object' || !('data' in parsed)) {
      throw new MailmeterError(`${init.method} ${url}: response is not a Mailmeter envelope`, response.status, 'InvalidResponse');
    }
    return (parsed as { data: T }).data;
  }
}

/** The caller's key, or a fresh random one (crypto.randomUUID: Node 19+ and every current browser). */
function idempotencyKeyOf(options: SendOptions | undefined): string {
  return options?.idempotencyKey ?? globalThis.crypto.randomUUID();
}

function seg(value: string): string {
  return encodeURIComponent(value);
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
