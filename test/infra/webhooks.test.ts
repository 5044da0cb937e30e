/** Webhooks in the stack (issue 12): the deliveries queue and its DLQ, the dispatcher's stream mapping, alarms, grants, cdk-nag. */
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CLAIM_SK_PREFIX } from '../../shared/data/messages';
import { WEBHOOK_FAILED_METRIC } from '../../shared/use-cases/webhooks/deliver';
import { functionLogicalId, resources, synthStage } from './synth';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

describe.each(['dev', 'prod'])('stage %s: webhooks', (stage) => {
  const s = () => synthStage(stage);
  const logicalId = (construct: unknown) => s().stack.getLogicalId((construct as { node: { defaultChild: never } }).node.defaultChild);

  /** Every statement of every policy attached to the function's role. */
  function statementsOf(name: Parameters<typeof functionLogicalId>[1]): Statement[] {
    const { template } = s();
    const fn = resources(template)[functionLogicalId(s(), name)];
    const role = JSON.stringify((fn?.Properties as { Role: unknown }).Role);
    return Object.values(resources(template))
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(role.replace(/^\{"Fn::GetAtt":\["|".*$/g, '')))
      .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  const actions = (sts: Statement[]) => sts.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));

  it('has an encrypted, TLS-only webhook-deliveries queue with a DLQ, consumed by deliver-webhooks with partial batch failures', () => {
    const { template, stack } = s();
    const queueId = logicalId(stack.state.webhookDeliveries.queue);
    const dlqId = logicalId(stack.state.webhookDeliveries.dlq);
    template.hasResource('AWS::SQS::Queue', {
      Properties: Match.objectLike({ SqsManagedSseEnabled: true, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: Match.anyValue() } }),
    });
    expect(resources(template)[queueId]?.Type).toBe('AWS::SQS::Queue');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: functionLogicalId(s(), 'deliver-webhooks') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('feeds dispatch-webhooks only claim-item INSERTs and jobs, domains and tenants changing status from the table stream, with an on-failure DLQ', () => {
    const { template, stack } = s();
    const mapping = Object.values(resources(template)).find(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties?.FunctionName).includes(functionLogicalId(s(), 'dispatch-webhooks')),
    );
    const p = mapping?.Properties as { FilterCriteria: { Filters: { Pattern: string }[] }; DestinationConfig: unknown; EventSourceArn: unknown };
    expect(JSON.parse(p.FilterCriteria.Filters[0]?.Pattern ?? '{}')).toEqual({
      eventName: ['INSERT'],
      dynamodb: { NewImage: { kind: { S: ['message'] }, sk: { S: [{ prefix: CLAIM_SK_PREFIX }] } } },
    });
    // job.completed: jobs turning final (the handler compares with the old image).
    expect(JSON.parse(p.FilterCriteria.Filters[1]?.Pattern ?? '{}')).toEqual({
      eventName: ['MODIFY'],
      dynamodb: { NewImage: { kind: { S: ['job'] }, status: { S: ['completed', 'failed'] } } },
    });
    // domain.verified / domain.failed: domains with a final status (the handler compares with the old image).
    expect(JSON.parse(p.FilterCriteria.Filters[2]?.Pattern ?? '{}')).toEqual({
      eventName: ['MODIFY'],
      dynamodb: { NewImage: { kind: { S: ['domain'] }, status: { S: ['verified', 'failed'] } } },
    });
    // tenant.paused / tenant.resumed: tenant items with a sending status.
    expect(JSON.parse(p.FilterCriteria.Filters[3]?.Pattern ?? '{}')).toEqual({
      eventName: ['MODIFY'],
      dynamodb: { NewImage: { kind: { S: ['tenant'] }, sending: { M: { status: { S: ['active', 'paused'] } } } } },
    });
    expect(p.FilterCriteria.Filters).toHaveLength(4);
    expect(JSON.stringify(p.DestinationConfig)).toContain(logicalId(stack.state.webhookDispatchFailures));
    expect(JSON.stringify(p.EventSourceArn)).toContain('StreamArn');
  });

  it('alarms on events whose retries are spent and on both dead-letter queues', () => {
    const { template, stack } = s();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: WEBHOOK_FAILED_METRIC, Namespace: 'Mailmeter', Threshold: 1 });
    for (const q of [stack.state.webhookDeliveries.dlq, stack.state.webhookDispatchFailures]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(q), 'QueueName'] } }],
      });
    }
  });

  it('grants least privilege: the dispatcher reads the table and sends to the queue; the deliverer writes the table and sends its retries; no SES', () => {
    const dispatcher = actions(statementsOf('dispatch-webhooks'));
    expect(dispatcher).toContain('sqs:SendMessage');
    expect(dispatcher).toContain('dynamodb:GetRecords');
    expect(dispatcher.filter((a) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))).toEqual([]);
    const deliverer = actions(statementsOf('deliver-webhooks'));
    expect(deliverer).toEqual(expect.arrayContaining(['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
    for (const name of ['dispatch-webhooks', 'deliver-webhooks', 'webhooks'] as const) {
      expect(actions(statementsOf(name)).filter((a) => a.startsWith('ses:') || a === '*'), name).toEqual([]);
    }
    const env = (resources(s().template)[functionLogicalId(s(), 'deliver-webhooks')]?.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(env.WEBHOOK_QUEUE_URL).toBeDefined();
    // Only the local stack may allow http://127.0.0.1 receivers.
    expect(env.WEBHOOK_ALLOW_INSECURE_LOCAL).toBeUndefined();
  });

  it('leaves no cdk-nag finding on the webhook resources', () => {
    const { app, stack } = s();
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const mine = report.violations.filter((v) => v.violatingResources.some((r) => /Webhook/i.test(r.resourceLogicalId ?? '')));
    expect(mine.map((v) => `${v.ruleName} on ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`)).toEqual([]);
  });
});
