/**
 * The REST API, built from the route table (shared/contract/routes.ts) so the deployed API and
 * the local stack can never disagree. The Lambda authorizer maps the Bearer key to a tenant
 * and returns its API Gateway key value as the usage identifier (apiKeySource AUTHORIZER),
 * so each plan's usage plan throttles the tenant at the edge (429) before any Lambda runs.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
  TokenAuthorizer,
  UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type HttpFunction, ROUTES } from '../../shared/contract/routes';
import { ADMIN_PLAN_LIMITS } from '../../shared/platform/usage-plans/usage-plans';
import { AUTHORIZER_CACHE_TTL_SECONDS } from '../../shared/rules/api-key';
import { PLAN_NAMES, type Plan, type PlanName } from '../../shared/rules/plans';
import type { StageConfig } from '../config';
import { stageRemovalPolicy } from './state';

export interface ApiProps {
  stage: StageConfig;
  /** The stage's plans (defaults merged with cdk.json overrides). */
  plans: Record<PlanName, Plan>;
  authorizer: IFunction;
  /** The function behind each route's `function` name. */
  handlers: Record<HttpFunction, IFunction>;
  logRetention: RetentionDays;
}

/** What API Gateway itself answers, in our error body (PRODUCT.md "HTTP API v1"). */
export const GATEWAY_RESPONSES: readonly {
  type: ResponseType;
  id: string;
  status: number;
  errorType: string;
  message: string;
  retryAfter?: boolean;
}[] = [
  { type: ResponseType.UNAUTHORIZED, id: 'Unauthorized', status: 401, errorType: 'AuthenticationError', message: 'Missing, malformed, unknown or revoked API key' },
  { type: ResponseType.ACCESS_DENIED, id: 'AccessDenied', status: 403, errorType: 'ForbiddenError', message: 'This key may not use this route' },
  // A key the authorizer accepted but whose usage identifier is on no usage plan.
  { type: ResponseType.INVALID_API_KEY, id: 'InvalidApiKey', status: 403, errorType: 'ForbiddenError', message: 'This key has no usage plan' },
  { type: ResponseType.THROTTLED, id: 'Throttled', status: 429, errorType: 'RateLimitError', message: 'Rate limit exceeded for your plan; retry later', retryAfter: true },
  { type: ResponseType.QUOTA_EXCEEDED, id: 'QuotaExceeded', status: 429, errorType: 'RateLimitError', message: 'Request quota exceeded for your plan; retry later', retryAfter: true },
  // API Gateway answers an unknown route as a missing token; for callers it is a 404.
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, id: 'NotFound', status: 404, errorType: 'NotFoundError', message: 'No such route' },
  { type: ResponseType.REQUEST_TOO_LARGE, id: 'TooLarge', status: 413, errorType: 'PayloadTooLargeError', message: 'Request body too large' },
  { type: ResponseType.BAD_REQUEST_BODY, id: 'BadBody', status: 400, errorType: 'ValidationError', message: 'Invalid request body' },
  { type: ResponseType.BAD_REQUEST_PARAMETERS, id: 'BadParameters', status: 400, errorType: 'ValidationError', message: 'Invalid request parameters' },
  { type: ResponseType.DEFAULT_5XX, id: 'Default5xx', status: 500, errorType: 'InternalError', message: 'Internal error' },
];

/** Seconds a throttled caller is told to wait: API Gateway's buckets refill every second. */
export const THROTTLED_RETRY_AFTER_SECONDS = 1;

export class MailmeterApi extends Construct {
  readonly api: RestApi;
  readonly usagePlans: Record<PlanName, UsagePlan>;
  readonly adminUsagePlan: UsagePlan;
  /**
   * The value the authorizer returns as usageIdentifierKey for admin keys. Not a secret: with
   * apiKeySource AUTHORIZER, API Gateway ignores x-api-key from callers, so only the
   * authorizer, after checking an admin Bearer key, can name it.
   */
  readonly adminUsageIdentifierKey: string;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { stage } = props;

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: stageRemovalPolicy(stage),
    });

    this.api = new RestApi(this, 'Api', {
      restApiName: `mailmeter-${stage.name}`,
      description: `Mailmeter HTTP API v1 (${stage.name})`,
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      // Execution logging needs an account-wide CloudWatch role shared by every stage; the
      // access log below records every request, which is what operators read.
      cloudWatchRole: false,
      deployOptions: {
        stageName: stage.name,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
        throttlingRateLimit: stage.apiThrottle.rateLimit,
        throttlingBurstLimit: stage.apiThrottle.burstLimit,
        tracingEnabled: stage.tracing,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.OFF,
      },
    });

    for (const r of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(r.id, {
        type: r.type,
        statusCode: String(r.status),
        responseHeaders: {
          'Content-Type': "'application/json'",
          ...(r.retryAfter ? { 'Retry-After': `'${THROTTLED_RETRY_AFTER_SECONDS}'` } : {}),
        },
        templates: {
          'application/json': JSON.stringify({ success: false, error: { type: r.errorType, message: r.message } }),
        },
      });
    }

    const authorizer = new TokenAuthorizer(this, 'Authorizer', {
      handler: props.authorizer,
      identitySource: 'method.request.header.Authorization',
      resultsCacheTtl: Duration.seconds(AUTHORIZER_CACHE_TTL_SECONDS),
    });

    const integrations = new Map<HttpFunction, LambdaIntegration>();
    for (const route of ROUTES) {
      let integration = integrations.get(route.function);
      if (!integration) {
        // One invoke permission per method instead of two: the console's test invoke is not used.
        integration = new LambdaIntegration(props.handlers[route.function], { allowTestInvoke: false });
        integrations.set(route.function, integration);
      }
      const resource: IResource = route.path === '/' ? this.api.root : this.api.root.resourceForPath(route.path);
      if (route.scope === 'public') {
        resource.addMethod(route.method, integration, { authorizationType: AuthorizationType.NONE, apiKeyRequired: false });
      } else {
        resource.addMethod(route.method, integration, {
          authorizer,
          authorizationType: AuthorizationType.CUSTOM,
          apiKeyRequired: true,
        });
      }
    }

    const apiStage = { api: this.api, stage: this.api.deploymentStage };
    const usagePlans = {} as Record<PlanName, UsagePlan>;
    for (const name of PLAN_NAMES) {
      const plan = props.plans[name];
      usagePlans[name] = this.api.addUsagePlan(`Plan-${name}`, {
        name: `mailmeter-${stage.name}-${name}`,
        description: `Plan ${name}: ${plan.requestsPerSecond} requests/s, burst ${plan.burstLimit}`,
        throttle: { rateLimit: plan.requestsPerSecond, burstLimit: plan.burstLimit },
        apiStages: [apiStage],
      });
    }
    this.usagePlans = usagePlans;
    this.adminUsagePlan = this.api.addUsagePlan('Plan-admin', {
      name: `mailmeter-${stage.name}-admin`,
      description: 'Operator keys (admin routes)',
      throttle: { rateLimit: ADMIN_PLAN_LIMITS.requestsPerSecond, burstLimit: ADMIN_PLAN_LIMITS.burstLimit },
      apiStages: [apiStage],
    });
    this.adminUsageIdentifierKey = `mailmeter-${stage.name}-admin-usage-identifier`;
    const adminKey = this.api.addApiKey('AdminUsageKey', {
      apiKeyName: `mailmeter-${stage.name}-admin`,
      description: 'Usage identifier of every admin key (returned by the authorizer)',
      value: this.adminUsageIdentifierKey,
    });
    this.adminUsagePlan.addApiKey(adminKey);
  }

  /** ARNs admin-tenants needs to create keys and move them between this API's usage plans. */
  usagePlanKeyArns(): string[] {
    const region = Stack.of(this).region;
    const plans = [...Object.values(this.usagePlans), this.adminUsagePlan];
    return [
      `arn:aws:apigateway:${region}::/apikeys`,
      `arn:aws:apigateway:${region}::/apikeys/*`,
      // CreateApiKey with tags also authorizes against the tags resource.
      `arn:aws:apigateway:${region}::/tags/*`,
      ...plans.flatMap((p) => [
        `arn:aws:apigateway:${region}::/usageplans/${p.usagePlanId}/keys`,
        `arn:aws:apigateway:${region}::/usageplans/${p.usagePlanId}/keys/*`,
      ]),
    ];
  }
}
