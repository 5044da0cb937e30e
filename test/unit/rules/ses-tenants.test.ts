/**
 * SES Tenants rules: the SES tenant's name and its way back to the Mailmeter tenant, the ARNs
 * the tenant is associated with, the AWS-managed reputation policies, and the sending-status
 * event as EventBridge delivers it (the example of the SES developer guide, "Tenants").
 */
import { describe, expect, it } from 'vitest';
import { ulid } from '../../../shared/rules/ids';
import {
  configurationSetArn,
  identityArn,
  parseSesStatusEvent,
  reputationPolicyArn,
  sesTenantName,
  sesTenantNameOfArn,
  tenantIdOfSesTenant,
} from '../../../shared/rules/ses-tenants';

/** The guide's example, verbatim but for the tenant. */
const guideExample = (tenant: string, over: Record<string, unknown> = {}) => ({
  'detail-type': 'Sending Status Disabled',
  source: 'aws.ses',
  account: '012345678901',
  time: '2025-07-24T12:44:28Z',
  region: 'us-east-1',
  resources: [`arn:aws:ses:us-east-1:012345678901:tenant/${tenant}/tn-2a8c678ec0000fdaf76cc1f127b40`],
  detail: {
    version: '1.0.0',
    data: {
      origin: 'CUSTOMER_MANAGED',
      record: { status: 'DISABLED', cause: 'Status manually updated.', lastUpdatedTimestamp: [2025, 7, 24, 12, 44, 28, 995000000] },
    },
  },
  ...over,
});

describe('SES tenant names', () => {
  it('are deterministic per stage and tenant, valid for SES, and map back only within their stage', () => {
    const id = ulid();
    const name = sesTenantName('prod', id);
    expect(name).toBe(`mailmeter-prod-${id}`);
    expect(sesTenantName('prod', id)).toBe(name);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    // The longest stage name cdk.json allows (20) still fits SES's 64 characters.
    expect(sesTenantName('a'.repeat(20), id).length).toBeLessThanOrEqual(64);
    expect(tenantIdOfSesTenant('prod', name)).toBe(id);
    expect(tenantIdOfSesTenant('dev', name)).toBeUndefined();
    // A stage whose name is a prefix of another's does not claim the other's tenants.
    expect(tenantIdOfSesTenant('prod', sesTenantName('prod-eu', id))).toBeUndefined();
    expect(tenantIdOfSesTenant('prod', 'mailmeter-prod-not-a-ulid')).toBeUndefined();
    expect(tenantIdOfSesTenant('prod', 'CustomerA-Tenant')).toBeUndefined();
  });

  it('reads the name out of a tenant ARN, and nothing out of other ARNs', () => {
    expect(sesTenantNameOfArn('arn:aws:ses:us-east-1:012345678901:tenant/CustomerA-Tenant/tn-2a8c678ec0000fdaf76cc1f127b40')).toBe('CustomerA-Tenant');
    expect(sesTenantNameOfArn('arn:aws:ses:us-east-1:012345678901:identity/example.com')).toBeUndefined();
    expect(sesTenantNameOfArn('arn:aws:ses:us-east-1:012345678901:tenant/no-id')).toBeUndefined();
  });
});

describe('SES ARNs', () => {
  it('builds identity, configuration-set and AWS-managed reputation policy ARNs in the right partition', () => {
    const scope = { region: 'eu-west-1', accountId: '123456789012' };
    expect(identityArn(scope, 'example.com')).toBe('arn:aws:ses:eu-west-1:123456789012:identity/example.com');
    expect(configurationSetArn(scope, 'mailmeter-dev')).toBe('arn:aws:ses:eu-west-1:123456789012:configuration-set/mailmeter-dev');
    expect(identityArn({ region: 'cn-north-1', accountId: '123456789012' }, 'x.cn')).toBe('arn:aws-cn:ses:cn-north-1:123456789012:identity/x.cn');
    // CloudFormation's AWS::SES::Tenant pattern: ^arn:[a-z0-9-]+:ses:[a-z0-9-]+:aws:reputation-policy/(none|standard|strict)$
    const pattern = /^arn:[a-z0-9-]+:ses:[a-z0-9-]+:aws:reputation-policy\/(none|standard|strict)$/;
    for (const mode of ['none', 'standard', 'strict'] as const) {
      expect(reputationPolicyArn('us-east-1', mode)).toBe(`arn:aws:ses:us-east-1:aws:reputation-policy/${mode}`);
      expect(reputationPolicyArn('us-gov-west-1', mode)).toMatch(pattern);
    }
  });
});

describe('parseSesStatusEvent', () => {
  it("reads the guide's example: tenant, status, origin, cause and the record's timestamp", () => {
    expect(parseSesStatusEvent(guideExample('CustomerA-Tenant'))).toEqual({
      ok: true,
      change: {
        sesTenant: 'CustomerA-Tenant',
        status: 'DISABLED',
        enabled: false,
        origin: 'CUSTOMER_MANAGED',
        cause: 'Status manually updated.',
        at: new Date('2025-07-24T12:44:28.995Z'),
      },
    });
  });

  it('treats ENABLED and REINSTATED as sending again', () => {
    for (const status of ['ENABLED', 'REINSTATED']) {
      const e = guideExample('T', { 'detail-type': 'Sending Status Enabled' });
      (e.detail.data.record as { status: string }).status = status;
      const parsed = parseSesStatusEvent(e);
      expect(parsed.ok && parsed.change).toMatchObject({ status, enabled: true });
    }
  });

  it("falls back to the event's time without a record timestamp", () => {
    const e = guideExample('T');
    delete (e.detail.data.record as { lastUpdatedTimestamp?: unknown }).lastUpdatedTimestamp;
    const parsed = parseSesStatusEvent(e);
    expect(parsed.ok && parsed.change.at).toEqual(new Date('2025-07-24T12:44:28Z'));
  });

  it('names what does not fit: another source or detail-type, no tenant ARN, no status', () => {
    const reason = (e: unknown) => {
      const r = parseSesStatusEvent(e);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(guideExample('T', { source: 'aws.sns' }))).toMatch(/^source:/);
    expect(reason(guideExample('T', { 'detail-type': 'Email Bounced' }))).toMatch(/^detail-type:/);
    expect(reason(guideExample('T', { resources: ['arn:aws:ses:us-east-1:1:identity/x.com'] }))).toMatch(/^resources: no SES tenant ARN/);
    expect(reason(guideExample('T', { detail: { version: '1.0.0', data: { record: {} } } }))).toMatch(/detail\.data\.record\.status/);
    expect(reason(null)).toMatch(/\(event\)/);
  });
});
