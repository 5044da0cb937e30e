/**
 * The API's request and response shapes (the `data` of each `{ success, data }` envelope),
 * inferred from the contract's zod schemas (shared/contract) — the same schemas that validate
 * requests in the router and generate docs/openapi.yaml, so they are written once. Type-only
 * imports: the SDK has no run-time dependency. Seed 000 (camelCase) and seed 003 (snake_case)
 * field names are kept exactly as the seeds spell them.
 */
export type {
  ApiKeyInfo,
  CreatedKey,
  CreatedTenant,
  CreateTenantRequest,
  Tenant,
  TenantDetails,
  TenantList,
  UpdateTenantRequest,
} from '../shared/contract/admin';
export type { ErrorBody } from '../shared/contract/common';
export type {
  AdminDomain,
  AdminDomainList,
  AssignDomainRequest,
  CreateDomainRequest,
  DnsRecord,
  Domain,
  DomainList,
  DomainStatus,
} from '../shared/contract/domains';
export type { BatchEmailRequest, BatchEmailResult, Email, EmailStatus, RecipientPage, RecipientStatus, RescheduleEmailRequest } from '../shared/contract/emails';
export type { Job, JobCounts, JobList, JobListParams, ListParams } from '../shared/contract/jobs';
export type { BillingPage, BillingRow, CreateUsageExportRequest, DriftReport, UsageExport } from '../shared/contract/operator';
export type {
  Account,
  AccountHealth,
  Dashboard,
  DashboardQuota,
  DashboardTemplates,
  JobStatus,
  JobSummary,
  Last30Days,
  OutcomeCounts,
  PlanName,
  Priority,
  Quota,
  RateReputation,
  Reputation,
  ReputationStatus,
  Stats,
  StatsParams,
  StatsPoint,
  StatsRange,
  Usage,
  UsageParams,
  UsagePeriod,
} from '../shared/contract/reads';
export type { Attachment, BulkEmailRequest, BulkEmailResult, BulkRecipient, SendEmailRequest, SendEmailResult, Variables } from '../shared/contract/sending';
export type { AddSuppressionRequest, Suppression, SuppressionList, SuppressionReason } from '../shared/contract/suppressions';
/** `GET /v1/suppressions` options. */
export interface SuppressionsParams {
  reason?: 'bounce' | 'complaint' | 'manual';
  limit?: number;
  cursor?: string;
}
export type {
  CreateTemplateRequest,
  Template,
  TemplateList,
  TemplateStats,
  TemplateStatus,
  UpdateTemplateRequest,
} from '../shared/contract/templates';
export type {
  CreatedWebhook,
  CreateWebhookRequest,
  ReplayRequest as WebhookReplayRequest,
  ReplayResult as WebhookReplayResult,
  RotatedWebhookSecret,
  UpdateWebhookRequest,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookEventType,
  WebhookList,
  WebhookPayload,
  WebhookTestResult,
} from '../shared/contract/webhooks';
/** `GET /v1/webhooks/{id}/deliveries` options. */
export interface WebhookDeliveriesParams {
  status?: 'failed';
  limit?: number;
  cursor?: string;
}
