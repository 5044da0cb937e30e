/**
 * cdk-nag AwsSolutions acknowledgements, each on the narrowest construct it applies to and
 * with the reason it does not apply here. Kept in one place so a reviewer sees every exception
 * at once; the tests fail on any finding not acknowledged here.
 */
import { type CfnResource, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { sesTenantPrefix } from '../shared/rules/ses-tenants';
import { type MailmeterStack, scheduleGroupName } from './stacks/mailmeter-stack';

function logicalId(construct: IConstruct): string {
  const stack = Stack.of(construct);
  return stack.getLogicalId(construct.node.defaultChild as CfnResource);
}

/** How cdk-nag spells a pseudo parameter in a finding id: the value if known, else `<AWS::…>`. */
function pseudo(value: string, name: 'AWS::Region' | 'AWS::AccountId' | 'AWS::Partition'): string {
  return Token.isUnresolved(value) ? `<${name}>` : value;
}

export function applyNagSuppressions(stack: MailmeterStack): void {
  const { state, functions, api, stage } = stack;
  const region = pseudo(stack.region, 'AWS::Region');
  const account = pseudo(stack.account, 'AWS::AccountId');
  const partition = pseudo(stack.partition, 'AWS::Partition');

  // Billing exports (issue 14).
  Validations.of(state.usageExports).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'Only the admin-usage function writes and signs exports; every export is recorded in the table (id, period, sha256), and CloudTrail data events are the stage owner\'s choice for downloads.',
  });
  Validations.of(functions['admin-usage']).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId(state.usageExports)}.Arn>/usage/*]`,
    reason: 'Each export is a new object named by its id under usage/, unknown at deploy time; the actions are only PutObject and GetObject.',
  });

  // Attachments (issue 13).
  Validations.of(state.attachments).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'Objects are transient (deleted once their job finished, expired by the lifecycle rule) and only send-api and send-email touch them; every job is recorded in the table.',
  });
  const attachmentObjects = `AwsSolutions-IAM5[Resource::<${logicalId(state.attachments)}.Arn>/attachments/*]`;
  Validations.of(functions['send-api']).acknowledge({
    id: attachmentObjects,
    reason: 'Each attachment is a new object named by its tenant, job and index under attachments/, unknown at deploy time; the actions are only PutObject and DeleteObject.',
  });
  Validations.of(functions['send-email']).acknowledge({
    id: attachmentObjects,
    reason: 'The sender reads and deletes the objects of the jobs it sends, under attachments/; the actions are only GetObject and DeleteObject.',
  });

  // Queues that are themselves dead-letter destinations need no dead-letter queue of their own.
  for (const q of [state.ingestFailures, state.aggregateFailures, state.pollFailures, state.scheduleFailures]) {
    Validations.of(q).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is a dead-letter destination (Lambda/EventBridge/EventBridge Scheduler on-failure); it is alarmed, not redriven further.' });
  }
  // Same for the dispatcher's on-failure destination (issue 12).
  Validations.of(state.webhookDispatchFailures).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is the on-failure destination of the dispatch-webhooks stream mapping; it is alarmed, not redriven further.',
  });

  const tableIndexes = `AwsSolutions-IAM5[Resource::<${logicalId(state.table)}.Arn>/index/*]`;
  for (const fn of Object.values(functions)) {
    Validations.of(fn).acknowledge(
      {
        id: `AwsSolutions-IAM4[Policy::arn:${partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]`,
        reason: 'The AWS managed basic execution role only allows writing this function\'s logs; it is what CDK attaches to every Lambda role.',
      },
      {
        id: 'AwsSolutions-L1',
        reason: 'Mailmeter targets nodejs22.x on purpose (issue 5): handlers are built and tested for Node 22; moving to a newer runtime is a deliberate upgrade.',
      },
      { id: tableIndexes, reason: 'Queries on the table\'s global secondary index (gsi1) need the index ARN; CDK grants index/* for the table\'s indexes only.' },
    );
    if (stage.tracing) {
      Validations.of(fn).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.' });
    }
  }

  Validations.of(functions['poll-send-quota']).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ses:GetAccount supports no resource-level permissions (it reads the account, not a resource).',
  });
  const anyIdentity = `AwsSolutions-IAM5[Resource::arn:${partition}:ses:${region}:${account}:identity/*]`;
  Validations.of(functions['admin-tenants']).acknowledge({
    id: anyIdentity,
    reason: "Offboarding deletes the identities of a tenant's sending domains, which tenants add at run time; the only action is ses:DeleteEmailIdentity.",
  });
  for (const fn of [functions.domains, functions['verify-domains']]) {
    Validations.of(fn).acknowledge({
      id: anyIdentity,
      reason: 'Tenants add their own sending domains at run time, so the identity names are unknown at deploy time; the actions are only the identity ones this function calls.',
    });
  }
  if (stage.sesIdentities.includes('*')) {
    Validations.of(functions['send-email']).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${partition}:ses:${region}:${account}:identity/*]`,
      reason: 'This stage sends as any verified identity (sesIdentities ["*"] in cdk.json); list the identities there to narrow it.',
    });
  }

  // Scheduled sends (issue 13): one schedule per scheduled job, named after it at run time.
  Validations.of(functions['send-api']).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:${partition}:scheduler:${region}:${account}:schedule/${scheduleGroupName(stage)}/*]`,
    reason: "Each scheduled job gets its own one-time schedule, named after the job id at run time; the grant is limited to the stage's schedule group and to create, update and delete.",
  });

  // SES Tenants mode: SES tenants are created per Mailmeter tenant at run time, under this stage's prefix.
  if (state.sesStatusFailures) {
    Validations.of(state.sesStatusFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter destination of the SES sending-status rule and of the mirror function\'s async invocations; it is alarmed, not redriven further.',
    });
    const tenants = `AwsSolutions-IAM5[Resource::arn:${partition}:ses:${region}:${account}:tenant/${sesTenantPrefix(stage.name)}*]`;
    const policies = `AwsSolutions-IAM5[Resource::arn:${partition}:ses:${region}:aws:reputation-policy/*]`;
    for (const fn of [functions['admin-tenants'], functions.domains, functions['send-email']]) {
      Validations.of(fn).acknowledge(
        { id: tenants, reason: 'One SES tenant per Mailmeter tenant, created at run time; the names carry this stage\'s prefix, so only this stage\'s tenants match.' },
        { id: policies, reason: 'The AWS-managed reputation policies (none, standard, strict) a tenant may be put under; they are AWS\'s, not resources of this account.' },
        { id: anyIdentity, reason: 'A tenant\'s sending domains (identities) are added at run time and associated with its SES tenant; the names are unknown at deploy time.' },
      );
    }
  }

  const adminTenants = functions['admin-tenants'];
  const apigw = `arn:aws:apigateway:${region}::`;
  Validations.of(adminTenants).acknowledge(
    { id: `AwsSolutions-IAM5[Resource::${apigw}/apikeys/*]`, reason: 'Tenant API Gateway keys are created at run time, so their ids are unknown at deploy time.' },
    { id: `AwsSolutions-IAM5[Resource::${apigw}/tags/*]`, reason: 'CreateApiKey with tags authorizes against the new key\'s tags resource, unknown at deploy time.' },
    ...[...Object.values(api.usagePlans), api.adminUsagePlan].map((plan) => ({
      id: `AwsSolutions-IAM5[Resource::${apigw}/usageplans/<${logicalId(plan)}>/keys/*]`,
      reason: 'Removing a key from this usage plan names the key id, created at run time; the plan itself is fixed.',
    })),
  );

  Validations.of(api.api).acknowledge(
    {
      id: 'AwsSolutions-APIG2',
      reason: 'Handlers validate every body and query with zod and answer ValidationError naming the field (PRODUCT.md); an API Gateway validator cannot answer in that shape.',
    },
    {
      id: 'AwsSolutions-APIG3',
      reason: 'Per-key rate and burst are enforced by the plans\' usage plans and the stage throttle; a WAF web ACL is an optional per-deployment add-on (docs/deploy.md).',
    },
    {
      id: 'AwsSolutions-APIG6',
      reason: 'Execution logging needs an account-wide API Gateway CloudWatch role shared by every stage; the stage writes access logs for every request instead.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason: 'Callers are API-key clients, not Cognito users: the Lambda TOKEN authorizer checks the Bearer key (PRODUCT.md).',
    },
  );
  const page = api.api.root.node.tryFindChild('GET');
  if (page) {
    Validations.of(page).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'GET / serves the public web dashboard page, which holds no data; the page asks for a key and calls the authorized routes with it.',
    });
  }
}
