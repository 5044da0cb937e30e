/**
 * The API contract: every route once, with the function that serves it, who may call it, and
 * the zod schemas of its path, query, body and answer. The CDK stack builds API Gateway from
 * it, the local API server routes with it, the router (shared/adapters/http) enforces scope and
 * validates input from it, `npm run openapi` writes docs/openapi.yaml from it, and the SDK's
 * types are inferred from the same schemas.
 */
import type * as z from 'zod';
import {
  CreatedKey,
  CreatedTenant,
  CreateTenantRequest,
  EmptyBody,
  KeyPath,
  PauseTenantRequest,
  Tenant,
  TenantDetails,
  TenantList,
  TenantsQuery,
  UpdateTenantRequest,
} from './admin';
import { ERROR_TYPES, type ErrorType, IdPath, NoQuery } from './common';
import { AdminDomain, AdminDomainList, AdminDomainsQuery, AssignDomainRequest, CreateDomainRequest, Domain, DomainList, DomainsQuery } from './domains';
import { BatchAccepted, BatchEmailRequest, Email, EmailIdPath, RecipientPage, RecipientsQuery, RescheduleEmailRequest } from './emails';
import { Job, JobList, JobsQuery } from './jobs';
import { BillingPage, BillingUsageHeaders, BillingUsageQuery, CreateUsageExportRequest, DriftReport, ReconciliationQuery, UsageExport } from './operator';
import { Account, Dashboard, Quota, Reputation, Stats, StatsQuery, Usage, UsageQuery } from './reads';
import { BulkEmailRequest, JobAccepted, SendEmailRequest, SendHeaders } from './sending';
import { AddSuppressionRequest, EmailPath, Suppression, SuppressionList, SuppressionsQuery } from './suppressions';
import { CreateTemplateRequest, Template, TemplateList, TemplateStats, TemplatesQuery, UpdateTemplateRequest } from './templates';
import {
  CreatedWebhook,
  CreateWebhookRequest,
  DeliveriesQuery,
  ReplayRequest,
  ReplayResult,
  RotatedWebhookSecret,
  UpdateWebhookRequest,
  Webhook,
  WebhookDeliveryList,
  WebhookList,
  WebhookTestResult,
} from './webhooks';

/** Folders under functions/ that serve HTTP routes. */
export type HttpFunction =
  | 'dashboard'
  | 'usage'
  | 'stats'
  | 'reputation'
  | 'account'
  | 'jobs'
  | 'templates'
  | 'admin-tenants'
  | 'admin-usage'
  | 'send-api'
  | 'domains'
  | 'suppressions'
  | 'webhooks'
  | 'web';

export type Scope = 'tenant' | 'admin' | 'public';
export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RouteSpec {
  function: HttpFunction;
  /** `public` routes have no authorizer (the dashboard page itself; it asks for a key). */
  scope: Scope;
  summary: string;
  tag: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body is optional (e.g. an empty POST); when given it is validated. */
  bodyOptional?: boolean;
  /** Request headers the route reads (names in lower case), e.g. `idempotency-key`. */
  headers?: z.ZodType;
  /** Success status and the schema of `data` (none for 204 and for non-JSON routes). */
  status: 200 | 201 | 202 | 204;
  response?: z.ZodType;
  /** Errors beyond those every route can answer (400, 401, 403, 404, 429, 500 as applicable). */
  errors?: ErrorType[];
}

function route<const S extends RouteSpec>(spec: S): S {
  return spec;
}

export const CONTRACT = {
  'GET /': route({ function: 'web', scope: 'public', summary: 'The dashboard page (HTML)', tag: 'Web', status: 200 }),
  'GET /v1/dashboard': route({
    function: 'dashboard',
    scope: 'tenant',
    tag: 'Dashboard',
    summary: "The tenant's quota, templates, last 30 days and 20 newest jobs (seed 000)",
    query: NoQuery,
    status: 200,
    response: Dashboard,
  }),
  'GET /v1/dashboard/quota': route({
    function: 'dashboard',
    scope: 'tenant',
    tag: 'Dashboard',
    summary: 'Billing-period, daily and monthly use against the limits (seed 000)',
    query: NoQuery,
    status: 200,
    response: Quota,
  }),
  'GET /v1/usage': route({
    function: 'usage',
    scope: 'tenant',
    tag: 'Usage',
    summary: 'Plan, rate limit, billing-period usage and daily history (seed 003)',
    query: UsageQuery,
    status: 200,
    response: Usage,
  }),
  'GET /v1/stats': route({
    function: 'stats',
    scope: 'tenant',
    tag: 'Usage',
    summary: 'Hourly sending statistics over 1–14 days, with reject, bounce and complaint rates (seed 001)',
    query: StatsQuery,
    status: 200,
    response: Stats,
  }),
  'GET /v1/reputation': route({
    function: 'reputation',
    scope: 'tenant',
    tag: 'Usage',
    summary: "The tenant's bounce and complaint rates over its representative volume (seed 001)",
    query: NoQuery,
    status: 200,
    response: Reputation,
  }),
  'GET /v1/jobs': route({ function: 'jobs', scope: 'tenant', tag: 'Jobs', summary: 'Jobs, newest first', query: JobsQuery, status: 200, response: JobList }),
  'GET /v1/jobs/{id}': route({
    function: 'jobs',
    scope: 'tenant',
    tag: 'Jobs',
    summary: 'One job with its progress and counts',
    params: IdPath,
    query: NoQuery,
    status: 200,
    response: Job,
  }),
  'POST /v1/templates': route({
    function: 'templates',
    scope: 'tenant',
    tag: 'Templates',
    summary: 'Create a template',
    query: NoQuery,
    body: CreateTemplateRequest,
    status: 201,
    response: Template,
    errors: ['ConflictError', 'PayloadTooLargeError'],
  }),
  'GET /v1/templates': route({
    function: 'templates',
    scope: 'tenant',
    tag: 'Templates',
    summary: 'Templates, newest first',
    query: TemplatesQuery,
    status: 200,
    response: TemplateList,
  }),
  'GET /v1/templates/stats': route({
    function: 'templates',
    scope: 'tenant',
    tag: 'Templates',
    summary: 'Emails sent through templates and the most used ones',
    query: NoQuery,
    status: 200,
    response: TemplateStats,
  }),
  'GET /v1/templates/{id}': route({
    function: 'templates',
    scope: 'tenant',
    tag: 'Templates',
    summary: 'One template',
    params: IdPath,
    query: NoQuery,
    status: 200,
    response: Template,
  }),
  'PATCH /v1/templates/{id}': route({
    function: 'templates',
    scope: 'tenant',
    tag: 'Templates',
    summary: 'Change a template (including active/inactive)',
    params: IdPath,
    query: NoQuery,
    body: UpdateTemplateRequest,
    status: 200,
    response: Template,
    errors: ['ConflictError'],
  }),
  'DELETE /v1/templates/{id}': route({
    function: 'templates',
    scope: 'tenant',
    tag: 'Templates',
    summary: 'Delete a template',
    params: IdPath,
    query: NoQuery,
    status: 204,
  }),
  'POST /v1/emails': route({
    function: 'send-api',
    scope: 'tenant',
    tag: 'Emails',
    summary: 'Send one email (queued; 202 with its job)',
    query: NoQuery,
    body: SendEmailRequest,
    headers: SendHeaders,
    status: 202,
    response: JobAccepted,
    errors: ['ConflictError', 'NotFoundError', 'IdempotencyError', 'SendingPausedError'],
  }),
  'POST /v1/emails/bulk': route({
    function: 'send-api',
    scope: 'tenant',
    tag: 'Emails',
    summary: 'Send a job of up to 10,000 recipients (queued; 202 with the job; recipient i is the email `<jobId>-<i>`)',
    query: NoQuery,
    body: BulkEmailRequest,
    headers: SendHeaders,
    status: 202,
    response: JobAccepted,
    errors: ['ConflictError', 'NotFoundError', 'IdempotencyError', 'SendingPausedError'],
  }),
  'POST /v1/emails/batch': route({
    function: 'send-api',
    scope: 'tenant',
    tag: 'Emails',
    summary: 'Send up to 100 different emails in one call: all are checked before any is accepted; 202 with one job per email, in order',
    query: NoQuery,
    body: BatchEmailRequest,
    headers: SendHeaders,
    status: 202,
    response: BatchAccepted,
    errors: ['ConflictError', 'IdempotencyError', 'SendingPausedError'],
  }),
  'GET /v1/emails/{id}': route({
    function: 'send-api',
    scope: 'tenant',
    tag: 'Emails',
    summary: "One email's story: status, from, to, subject, the SES message id and its events in the order they happened",
    params: EmailIdPath,
    query: NoQuery,
    status: 200,
    response: Email,
  }),
  'PATCH /v1/emails/{id}': route({
    function: 'send-api',
    scope: 'tenant',
    tag: 'Emails',
    summary: 'Reschedule a scheduled email: `{ scheduledAt }` (at most 30 days ahead; a past time sends it now); 409 when it is no longer scheduled',
    params: EmailIdPath,
    query: NoQuery,
    body: RescheduleEmailRequest,
    status: 200,
    response: Email,
    errors: ['ConflictError'],
  }),
  'POST /v1/emails/{id}/cancel': route({
    function: 'send-api',
    scope: 'tenant',
    tag: 'Emails',
    summary:
      'Cancel an email that is scheduled or still queued: what was not yet handed to SES is never sent (status `canceled`); what SES already accepted stays sent. 409 when it was already sent or failed',
    params: EmailIdPath,
    query: NoQuery,
    body: EmptyBody,
    bodyOptional: true,
    status: 200,
    response: Email,
    errors: ['ConflictError'],
  }),
  'POST /v1/jobs/{id}/cancel': route({
    function: 'send-api',
    scope: 'tenant',
    tag: 'Jobs',
    summary:
      'Cancel a job that is scheduled, queued, processing or deferred: recipients not yet handed to SES become `canceled` (settled as its queued work comes by); those SES accepted stay sent. 409 when the job had already finished',
    params: IdPath,
    query: NoQuery,
    body: EmptyBody,
    bodyOptional: true,
    status: 200,
    response: Job,
    errors: ['ConflictError'],
  }),
  'GET /v1/jobs/{id}/recipients': route({
    function: 'send-api',
    scope: 'tenant',
    tag: 'Jobs',
    summary: "A job's recipients in request order with their send status (queued, sent, failed, suppressed), 100 a page, optionally of one status",
    params: IdPath,
    query: RecipientsQuery,
    status: 200,
    response: RecipientPage,
  }),
  'POST /v1/domains': route({
    function: 'domains',
    scope: 'tenant',
    tag: 'Domains',
    summary: 'Add a sending domain: creates the SES identity (Easy DKIM) and answers the DNS records to publish',
    query: NoQuery,
    body: CreateDomainRequest,
    status: 201,
    response: Domain,
    errors: ['ConflictError'],
  }),
  'GET /v1/domains': route({
    function: 'domains',
    scope: 'tenant',
    tag: 'Domains',
    summary: "The tenant's sending domains",
    query: DomainsQuery,
    status: 200,
    response: DomainList,
  }),
  'GET /v1/domains/{id}': route({
    function: 'domains',
    scope: 'tenant',
    tag: 'Domains',
    summary: 'One sending domain with its DNS records and status',
    params: IdPath,
    query: NoQuery,
    status: 200,
    response: Domain,
  }),
  'POST /v1/domains/{id}/verify': route({
    function: 'domains',
    scope: 'tenant',
    tag: 'Domains',
    summary: 'Ask SES for the verification status now',
    params: IdPath,
    query: NoQuery,
    status: 200,
    response: Domain,
    errors: ['ConflictError'],
  }),
  'DELETE /v1/domains/{id}': route({
    function: 'domains',
    scope: 'tenant',
    tag: 'Domains',
    summary: 'Remove a sending domain: sends from it are refused (after the send check cache) and its SES identity is deleted',
    params: IdPath,
    query: NoQuery,
    status: 204,
  }),
  'POST /v1/webhooks': route({
    function: 'webhooks',
    scope: 'tenant',
    tag: 'Webhooks',
    summary: 'Add a webhook endpoint (at most 10 per tenant by default); answers its signing secret, shown once',
    query: NoQuery,
    body: CreateWebhookRequest,
    status: 201,
    response: CreatedWebhook,
    errors: ['ConflictError'],
  }),
  'GET /v1/webhooks': route({
    function: 'webhooks',
    scope: 'tenant',
    tag: 'Webhooks',
    summary: "The tenant's webhook endpoints",
    query: NoQuery,
    status: 200,
    response: WebhookList,
  }),
  'GET /v1/webhooks/{id}': route({
    function: 'webhooks',
    scope: 'tenant',
    tag: 'Webhooks',
    summary: 'One webhook endpoint',
    params: IdPath,
    query: NoQuery,
    status: 200,
    response: Webhook,
  }),
  'PATCH /v1/webhooks/{id}': route({
    function: 'webhooks',
    scope: 'tenant',
    tag: 'Webhooks',
    summary: 'Change the url, events or description, or enable (after an automatic disable) / disable the endpoint',
    params: IdPath,
    query: NoQuery,
    body: UpdateWebhookRequest,
    status: 200,
    response: Webhook,
    errors: ['ConflictError'],
  }),
  'DELETE /v1/webhooks/{id}': route({
    function: 'webhooks',
    scope: 'tenant',
    tag: 'Webhooks',
    summary: 'Remove a webhook endpoint; its queued deliveries are dropped',
    params: IdPath,
    query: NoQuery,
    status: 204,
  }),
  'POST /v1/webhooks/{id}/rotate-secret': route({
    function: 'webhooks',
    scope: 'tenant',
    tag: 'Webhooks',
    summary: 'A new signing secret (shown once); the old one keeps signing alongside it for 24 h',
    params: IdPath,
    query: NoQuery,
    body: EmptyBody,
    bodyOptional: true,
    status: 200,
    response: RotatedWebhookSecret,
    errors: ['ConflictError'],
  }),
  'POST /v1/webhooks/{id}/test': route({
    function: 'webhooks',
    scope: 'tenant',
    tag: 'Webhooks',
    summary: 'Queue a `webhook.test` event to this endpoint',
    params: IdPath,
    query: NoQuery,
    body: EmptyBody,
    bodyOptional: true,
    status: 202,
    response: WebhookTestResult,
  }),
  'GET /v1/webhooks/{id}/deliveries': route({
    function: 'webhooks',
    scope: 'tenant',
    tag: 'Webhooks',
    summary: 'Recent delivery attempts, newest first (7 days); `status=failed`: events whose retries are spent (30 days, replayable)',
    params: IdPath,
    query: DeliveriesQuery,
    status: 200,
    response: WebhookDeliveryList,
  }),
  'POST /v1/webhooks/{id}/replay': route({
    function: 'webhooks',
    scope: 'tenant',
    tag: 'Webhooks',
    summary: 'Re-send the failed events first dispatched between since and until (default now), with their original webhook-id',
    params: IdPath,
    query: NoQuery,
    body: ReplayRequest,
    status: 202,
    response: ReplayResult,
  }),
  'GET /v1/suppressions': route({
    function: 'suppressions',
    scope: 'tenant',
    tag: 'Suppressions',
    summary: "The suppression list in address order (the tenant's, or the account's with suppressionScope account); `reason` filters it",
    query: SuppressionsQuery,
    status: 200,
    response: SuppressionList,
  }),
  'GET /v1/suppressions/{email}': route({
    function: 'suppressions',
    scope: 'tenant',
    tag: 'Suppressions',
    summary: 'Whether an address is suppressed (404 when not)',
    params: EmailPath,
    query: NoQuery,
    status: 200,
    response: Suppression,
  }),
  'POST /v1/suppressions': route({
    function: 'suppressions',
    scope: 'tenant',
    tag: 'Suppressions',
    summary: 'Suppress an address by hand (idempotent: an address already suppressed keeps its entry)',
    query: NoQuery,
    body: AddSuppressionRequest,
    status: 201,
    response: Suppression,
  }),
  'DELETE /v1/suppressions/{email}': route({
    function: 'suppressions',
    scope: 'tenant',
    tag: 'Suppressions',
    summary: 'Remove an address from the list, so it can be sent to again (with suppressionScope account, only the operator may)',
    params: EmailPath,
    query: NoQuery,
    status: 204,
  }),
  'POST /v1/admin/tenants/{id}/domains': route({
    function: 'domains',
    scope: 'admin',
    tag: 'Admin',
    summary: 'Assign a sending domain to a tenant (with `verified: true`, an identity already verified in SES)',
    params: IdPath,
    query: NoQuery,
    body: AssignDomainRequest,
    status: 201,
    response: AdminDomain,
    errors: ['ConflictError'],
  }),
  'GET /v1/admin/domains': route({
    function: 'domains',
    scope: 'admin',
    tag: 'Admin',
    summary: "Every tenant's sending domains, optionally of one status",
    query: AdminDomainsQuery,
    status: 200,
    response: AdminDomainList,
  }),
  'GET /v1/account': route({
    function: 'account',
    scope: 'admin',
    tag: 'Account',
    summary: 'The global SES account: quota, send rate, health (seeds 001, 002); 404 before the first poll',
    query: NoQuery,
    status: 200,
    response: Account,
    errors: ['NotFoundError'],
  }),
  'GET /v1/admin/tenants': route({
    function: 'admin-tenants',
    scope: 'admin',
    tag: 'Admin',
    summary: 'Tenants',
    query: TenantsQuery,
    status: 200,
    response: TenantList,
  }),
  'POST /v1/admin/tenants': route({
    function: 'admin-tenants',
    scope: 'admin',
    tag: 'Admin',
    summary: 'Create a tenant with its first API key (shown once); 409 when API Gateway has no API key left (10,000 per account and Region)',
    query: NoQuery,
    body: CreateTenantRequest,
    status: 201,
    response: CreatedTenant,
    errors: ['ConflictError', 'RateLimitError'],
  }),
  'GET /v1/admin/tenants/{id}': route({
    function: 'admin-tenants',
    scope: 'admin',
    tag: 'Admin',
    summary: 'One tenant with its keys (never the keys themselves)',
    params: IdPath,
    query: NoQuery,
    status: 200,
    response: TenantDetails,
  }),
  'PATCH /v1/admin/tenants/{id}': route({
    function: 'admin-tenants',
    scope: 'admin',
    tag: 'Admin',
    summary: "Change a tenant's plan or limits (409 once the tenant is deleted)",
    params: IdPath,
    query: NoQuery,
    body: UpdateTenantRequest,
    status: 200,
    response: Tenant,
    errors: ['ConflictError'],
  }),
  'DELETE /v1/admin/tenants/{id}': route({
    function: 'admin-tenants',
    scope: 'admin',
    tag: 'Admin',
    summary:
      "Offboard a tenant: every key revoked and its API Gateway key deleted (refused at once), new sends refused, queued units settled as failed (TenantDeleted), domains released, webhooks disabled; counters and usage kept for billing until the stage's retention, then expired. Idempotent: a repeated DELETE answers 204 again (and finishes an interrupted one)",
    params: IdPath,
    query: NoQuery,
    status: 204,
  }),
  'POST /v1/admin/tenants/{id}/pause': route({
    function: 'admin-tenants',
    scope: 'admin',
    tag: 'Admin',
    summary: "Pause a tenant's sending: its sends answer 403 SendingPausedError, its queued jobs are held (deferred) until it is resumed",
    params: IdPath,
    query: NoQuery,
    body: PauseTenantRequest,
    status: 200,
    response: Tenant,
    errors: ['ConflictError'],
  }),
  'POST /v1/admin/tenants/{id}/resume': route({
    function: 'admin-tenants',
    scope: 'admin',
    tag: 'Admin',
    summary: "Resume a tenant's sending: held jobs continue where they stopped; the reputation policy's window starts now",
    params: IdPath,
    query: NoQuery,
    body: EmptyBody,
    bodyOptional: true,
    status: 200,
    response: Tenant,
    errors: ['ConflictError'],
  }),
  'POST /v1/admin/tenants/{id}/keys': route({
    function: 'admin-tenants',
    scope: 'admin',
    tag: 'Admin',
    summary: 'Issue another API key for a tenant (shown once)',
    params: IdPath,
    query: NoQuery,
    body: EmptyBody,
    bodyOptional: true,
    status: 201,
    response: CreatedKey,
    errors: ['ConflictError'],
  }),
  'DELETE /v1/admin/tenants/{id}/keys/{keyId}': route({
    function: 'admin-tenants',
    scope: 'admin',
    tag: 'Admin',
    summary: 'Revoke an API key (refused within the authorizer cache TTL)',
    params: KeyPath,
    query: NoQuery,
    status: 204,
  }),
  'GET /v1/admin/usage': route({
    function: 'admin-usage',
    scope: 'admin',
    tag: 'Admin',
    summary:
      "Billing export: each tenant's billing period starting in `period` (its own anchor day), with its counts; 100 tenants a page by default; `format=csv` or `Accept: text/csv` answers RFC 4180 CSV (next page's cursor in `x-next-cursor`)",
    query: BillingUsageQuery,
    headers: BillingUsageHeaders,
    status: 200,
    response: BillingPage,
  }),
  'POST /v1/admin/usage-exports': route({
    function: 'admin-usage',
    scope: 'admin',
    tag: 'Admin',
    summary:
      'Write one CSV of every tenant (the billing export of `period`) to the export bucket; answers the export with a pre-signed download URL. A closed period exports to the same bytes every time',
    query: NoQuery,
    body: CreateUsageExportRequest,
    status: 201,
    response: UsageExport,
  }),
  'GET /v1/admin/usage-exports/{id}': route({
    function: 'admin-usage',
    scope: 'admin',
    tag: 'Admin',
    summary: 'A usage export: its status and, once completed, a pre-signed download URL (15 minutes)',
    params: IdPath,
    query: NoQuery,
    status: 200,
    response: UsageExport,
  }),
  'GET /v1/admin/reconciliation': route({
    function: 'admin-usage',
    scope: 'admin',
    tag: 'Admin',
    summary:
      "The counter reconciliation of a UTC day: the day's claims recounted and compared with the day counters of the account and every tenant; `drift` lists every difference (404 before the day was reconciled)",
    query: ReconciliationQuery,
    status: 200,
    response: DriftReport,
    errors: ['NotFoundError'],
  }),
} as const satisfies Record<string, RouteSpec>;

export type Contract = typeof CONTRACT;
export type RouteKey = keyof Contract;

export interface RouteDefinition {
  method: Method;
  /** API Gateway resource template. */
  path: string;
  function: HttpFunction;
  scope: Scope;
}

/** The route table as a list (CDK, the local API server, tests). */
export const ROUTES: readonly (RouteDefinition & { key: RouteKey; spec: RouteSpec })[] = (Object.keys(CONTRACT) as RouteKey[]).map((key) => {
  const [method, path] = key.split(' ') as [Method, string];
  const spec: RouteSpec = CONTRACT[key];
  return { key, method, path, function: spec.function, scope: spec.scope, spec };
});

/** Every Lambda function of the system (folder names under functions/). */
export const FUNCTIONS = [
  'authorizer',
  'dashboard',
  'usage',
  'stats',
  'reputation',
  'account',
  'jobs',
  'templates',
  'admin-tenants',
  'admin-usage',
  'send-api',
  'domains',
  'webhooks',
  'suppressions',
  'web',
  'send-email',
  'release-scheduled',
  'verify-domains',
  'redrive-jobs',
  'expire-tenant-items',
  'dispatch-webhooks',
  'deliver-webhooks',
  'ingest-events',
  'aggregate-counters',
  'poll-send-quota',
  'reconcile-counters',
  // SES Tenants mode only (stage option sesTenants): not deployed otherwise.
  'mirror-ses-status',
] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** Every error a route can answer: the ones any authenticated route can, and its own. */
export function errorTypesOf(spec: RouteSpec): ErrorType[] {
  const types = new Set<ErrorType>(['AuthenticationError', 'ForbiddenError', 'RateLimitError', 'InternalError']);
  if (spec.params || spec.query || spec.body || spec.headers) types.add('ValidationError');
  if (spec.params) types.add('NotFoundError');
  if (spec.body) types.add('PayloadTooLargeError');
  for (const t of spec.errors ?? []) types.add(t);
  return [...types].sort((a, b) => ERROR_TYPES[a] - ERROR_TYPES[b] || a.localeCompare(b));
}
