/**
 * The route table: which function serves which route, and who may call it. The CDK stack
 * builds API Gateway resources from it and the local stack routes requests with it, so the
 * two can never disagree. `function` is the folder under functions/.
 */
export type HttpFunction =
  | 'dashboard'
  | 'usage'
  | 'stats'
  | 'reputation'
  | 'account'
  | 'jobs'
  | 'templates'
  | 'admin-tenants'
  | 'send-api'
  | 'web';

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** API Gateway resource template. */
  path: string;
  function: HttpFunction;
  /** `public` routes have no authorizer (the dashboard page itself; it asks for a key). */
  scope: 'tenant' | 'admin' | 'public';
}

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/', function: 'web', scope: 'public' },
  { method: 'GET', path: '/v1/dashboard', function: 'dashboard', scope: 'tenant' },
  { method: 'GET', path: '/v1/dashboard/quota', function: 'dashboard', scope: 'tenant' },
  { method: 'GET', path: '/v1/usage', function: 'usage', scope: 'tenant' },
  { method: 'GET', path: '/v1/stats', function: 'stats', scope: 'tenant' },
  { method: 'GET', path: '/v1/reputation', function: 'reputation', scope: 'tenant' },
  { method: 'GET', path: '/v1/jobs', function: 'jobs', scope: 'tenant' },
  { method: 'GET', path: '/v1/jobs/{id}', function: 'jobs', scope: 'tenant' },
  { method: 'POST', path: '/v1/templates', function: 'templates', scope: 'tenant' },
  { method: 'GET', path: '/v1/templates', function: 'templates', scope: 'tenant' },
  { method: 'GET', path: '/v1/templates/stats', function: 'templates', scope: 'tenant' },
  { method: 'GET', path: '/v1/templates/{id}', function: 'templates', scope: 'tenant' },
  { method: 'PATCH', path: '/v1/templates/{id}', function: 'templates', scope: 'tenant' },
  { method: 'DELETE', path: '/v1/templates/{id}', function: 'templates', scope: 'tenant' },
  { method: 'POST', path: '/v1/emails', function: 'send-api', scope: 'tenant' },
  { method: 'POST', path: '/v1/emails/bulk', function: 'send-api', scope: 'tenant' },
  { method: 'GET', path: '/v1/account', function: 'account', scope: 'admin' },
  { method: 'GET', path: '/v1/admin/tenants', function: 'admin-tenants', scope: 'admin' },
  { method: 'POST', path: '/v1/admin/tenants', function: 'admin-tenants', scope: 'admin' },
  { method: 'GET', path: '/v1/admin/tenants/{id}', function: 'admin-tenants', scope: 'admin' },
  { method: 'PATCH', path: '/v1/admin/tenants/{id}', function: 'admin-tenants', scope: 'admin' },
  { method: 'POST', path: '/v1/admin/tenants/{id}/keys', function: 'admin-tenants', scope: 'admin' },
  { method: 'DELETE', path: '/v1/admin/tenants/{id}/keys/{keyId}', function: 'admin-tenants', scope: 'admin' },
];

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
  'send-api',
  'web',
  'send-email',
  'ingest-events',
  'aggregate-counters',
  'poll-send-quota',
] as const;
export type FunctionName = (typeof FUNCTIONS)[number];
