/**
 * The local SES's account resources: email identities (Easy DKIM, MAIL FROM, verification that
 * completes by itself after a delay), tenants and their resource associations. All in memory, and
 * exportable as one JSON snapshot (`LocalSesState`) so the local stack can keep identities across
 * restarts. Response shapes follow the SES v2 model in @aws-sdk/client-sesv2; error names and
 * messages are listed in local-ses.ts.
 */
import { randomBytes } from 'node:crypto';
import { SesError } from './errors';
import { bareAddress, LOCAL_ACCOUNT_ID } from './event-records';

export type IdentityStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_STARTED';
export type TenantSendingStatus = 'ENABLED' | 'DISABLED' | 'REINSTATED';
export type TenantResourceType = 'EMAIL_IDENTITY' | 'CONFIGURATION_SET' | 'EMAIL_TEMPLATE';
export interface SesTag {
  Key: string;
  Value: string;
}

export interface StoredIdentity {
  /** Lower case: SES compares identities case-insensitively here, so one spelling is kept. */
  name: string;
  type: 'DOMAIN' | 'EMAIL_ADDRESS';
  /** Epoch ms; the verification delay runs from here. */
  createdAt: number;
  /** Easy DKIM tokens (domains only). */
  tokens: string[];
  signingKeyLength: 'RSA_1024_BIT' | 'RSA_2048_BIT';
  configurationSetName?: string;
  tags: SesTag[];
  mailFrom?: { domain: string; behaviorOnMxFailure: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE' };
  /** Set by `setIdentityStatus` and for pre-verified identities; otherwise the delay decides. */
  forcedStatus?: IdentityStatus;
}

export interface StoredTenant {
  name: string;
  id: string;
  arn: string;
  /** Epoch ms. */
  createdAt: number;
  tags: SesTag[];
  sendingStatus: TenantSendingStatus;
  suppressionAttributes?: { SuppressedReasons: string[]; SuppressionScope: string };
  /** The AWS-managed reputation policy (ARN); SES gives a new tenant the standard one. */
  reputationPolicy?: string;
  /** Epoch ms of the last sending-status change. */
  statusChangedAt?: number;
}

export interface StoredAssociation {
  tenantName: string;
  tenantId: string;
  resourceArn: string;
  resourceType: TenantResourceType;
  /** Epoch ms. */
  associatedAt: number;
}

/** A JSON snapshot of everything the registry holds (`exportState` / `importState`). */
export interface LocalSesState {
  version: 1;
  identities: StoredIdentity[];
  tenants: StoredTenant[];
  associations: StoredAssociation[];
}

export interface RegistryDeps {
  region: string;
  now: () => number;
  verificationDelayMs: () => number;
  onChange?: () => void;
}

const seconds = (ms: number) => ms / 1000; // REST-JSON timestamps are epoch seconds
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const TENANT_NAME = /^[A-Za-z0-9_-]+$/;
/** AWS-managed reputation policies (the pattern CloudFormation's AWS::SES::Tenant validates). */
const REPUTATION_POLICY = /^arn:[a-z0-9-]+:ses:[a-z0-9-]+:aws:reputation-policy\/(none|standard|strict)$/;
const ARN_TYPES: Record<string, TenantResourceType> = {
  identity: 'EMAIL_IDENTITY',
  'configuration-set': 'CONFIGURATION_SET',
  template: 'EMAIL_TEMPLATE',
};

/** Easy DKIM tokens look like 32 lower-case base32 characters. */
function dkimToken(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return [...randomBytes(32)].map((b) => alphabet[b % 32]).join('');
}

function tags(v: unknown): SesTag[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new SesError('BadRequestException', 400, 'Tags must be a list');
  return v.map((t: { Key?: unknown; Value?: unknown }) => {
    if (typeof t?.Key !== 'string' || !t.Key) throw new SesError('BadRequestException', 400, 'Tag keys must not be empty');
    return { Key: t.Key, Value: typeof t.Value === 'string' ? t.Value : '' };
  });
}

function tenantNameOf(body: Record<string, unknown>): string {
  const name = body.TenantName;
  if (typeof name !== 'string' || !name.trim()) throw new SesError('BadRequestException', 400, 'TenantName cannot be empty');
  return name;
}

/** The domain and each parent domain, most specific first: a.b.example.com, b.example.com, example.com. */
function domainAndParents(domain: string): string[] {
  const labels = domain.split('.');
  return labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
}

export function createRegistry(deps: RegistryDeps) {
  const identities = new Map<string, StoredIdentity>();
  const tenants = new Map<string, StoredTenant>();
  let associations: StoredAssociation[] = [];
  const changed = () => deps.onChange?.();

  const identityArn = (name: string) => `arn:aws:ses:${deps.region}:${LOCAL_ACCOUNT_ID}:identity/${name}`;
  const configurationSetArn = (name: string) => `arn:aws:ses:${deps.region}:${LOCAL_ACCOUNT_ID}:configuration-set/${name}`;

  function statusOf(i: StoredIdentity): IdentityStatus {
    if (i.forcedStatus) return i.forcedStatus;
    return deps.now() - i.createdAt >= deps.verificationDelayMs() ? 'SUCCESS' : 'PENDING';
  }

  function find(name: string): StoredIdentity {
    const i = identities.get(name.trim().toLowerCase());
    if (!i) throw new SesError('NotFoundException', 404, `Identity <${name}> does not exist`);
    return i;
  }

  function newIdentity(rawName: unknown, body: Record<string, unknown> = {}): StoredIdentity {
    if (typeof rawName !== 'string' || !rawName.trim()) throw new SesError('BadRequestException', 400, 'EmailIdentity cannot be empty');
    const name = rawName.trim().toLowerCase();
    const type = name.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN';
    if (type === 'EMAIL_ADDRESS' ? !EMAIL.test(name) : !DOMAIN.test(name)) {
      throw new SesError('BadRequestException', 400, `Invalid email identity: ${rawName}`);
    }
    const signing = (body.DkimSigningAttributes ?? {}) as Record<string, unknown>;
    if (signing.DomainSigningPrivateKey !== undefined || signing.DomainSigningSelector !== undefined) {
      throw new SesError('BadRequestException', 400, 'the local SES supports Easy DKIM only (no DomainSigningPrivateKey)');
    }
    const length = signing.NextSigningKeyLength ?? 'RSA_2048_BIT';
    if (length !== 'RSA_1024_BIT' && length !== 'RSA_2048_BIT') {
      throw new SesError('BadRequestException', 400, `Invalid NextSigningKeyLength: ${String(length)}`);
    }
    return {
      name,
      type,
      createdAt: deps.now(),
      tokens: type === 'DOMAIN' ? [dkimToken(), dkimToken(), dkimToken()] : [],
      signingKeyLength: length,
      configurationSetName: typeof body.ConfigurationSetName === 'string' ? body.ConfigurationSetName : undefined,
      tags: tags(body.Tags),
    };
  }

  function dkimAttributes(i: StoredIdentity) {
    if (i.type === 'EMAIL_ADDRESS') {
      // An address identity has no DKIM of its own (it signs with its domain's, when verified).
      return { SigningEnabled: false, Status: 'NOT_STARTED', SigningAttributesOrigin: 'AWS_SES', NextSigningKeyLength: 'RSA_1024_BIT' };
    }
    return {
      SigningEnabled: true,
      Status: statusOf(i),
      Tokens: [...i.tokens],
      SigningAttributesOrigin: 'AWS_SES',
      NextSigningKeyLength: i.signingKeyLength,
      CurrentSigningKeyLength: i.signingKeyLength,
      LastKeyGenerationTimestamp: seconds(i.createdAt),
    };
  }

  function mailFromAttributes(i: StoredIdentity) {
    if (!i.mailFrom) return { BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' };
    const status = statusOf(i);
    return {
      MailFromDomain: i.mailFrom.domain,
      MailFromDomainStatus: status === 'NOT_STARTED' ? 'PENDING' : status,
      BehaviorOnMxFailure: i.mailFrom.behaviorOnMxFailure,
    };
  }

  function verificationInfo(i: StoredIdentity) {
    const status = statusOf(i);
    const checked = status === 'PENDING' || status === 'NOT_STARTED' ? i.createdAt : i.createdAt + deps.verificationDelayMs();
    return {
      LastCheckedTimestamp: seconds(Math.min(checked, deps.now())),
      ...(status === 'SUCCESS' ? { LastSuccessTimestamp: seconds(Math.min(checked, deps.now())) } : {}),
      ...(status === 'FAILED' ? { ErrorType: 'TYPE_NOT_FOUND' } : {}),
      ...(status === 'TEMPORARY_FAILURE' ? { ErrorType: 'DNS_SERVER_ERROR' } : {}),
    };
  }

  function associationsOf(resourceArn: string) {
    return associations.filter((a) => a.resourceArn === resourceArn);
  }

  /** Validates an association's ResourceArn the way SES does (format, type, region, account). */
  function parseResourceArn(arn: unknown): { type: TenantResourceType; name: string; arn: string } {
    if (typeof arn !== 'string' || !arn) {
      throw new SesError('BadRequestException', 400, "1 validation error detected: Value at 'resourceArn' failed to satisfy constraint: Member must not be null");
    }
    const parts = arn.split(':');
    if (parts.length < 6 || parts[0] !== 'arn') throw new SesError('BadRequestException', 400, 'Provided resource identifier is not an SES resource');
    if (parts[2] !== 'ses') throw new SesError('BadRequestException', 400, 'Provided ARN is not in SES resource ARN format');
    const resource = parts.slice(5).join(':');
    const slash = resource.indexOf('/');
    const rawType = slash < 0 ? resource : resource.slice(0, slash);
    const type = ARN_TYPES[rawType];
    if (!type) throw new SesError('BadRequestException', 400, `Unsupported resource type: ${rawType}`);
    if (slash < 0 || slash === resource.length - 1) throw new SesError('BadRequestException', 400, 'Provided resource identifier is not an SES resource');
    if (parts[3] !== deps.region) throw new SesError('BadRequestException', 400, `Resource <${arn}> must be in the same region`);
    if (parts[4] !== LOCAL_ACCOUNT_ID) throw new SesError('BadRequestException', 400, `Resource <${arn}> must be in the same account`);
    return { type, name: resource.slice(slash + 1), arn };
  }

  function tenant(name: string): StoredTenant {
    const t = tenants.get(name);
    if (!t) throw new SesError('NotFoundException', 404, `The requested tenant <${name}> does not exist.`);
    return t;
  }

  function reputationEntity(type: string, reference: string): StoredTenant {
    if (type !== 'RESOURCE') throw new SesError('BadRequestException', 400, `Invalid reputation entity type: ${type}`);
    const t = [...tenants.values()].find((x) => x.arn === reference);
    if (!t) throw new SesError('NotFoundException', 404, `Reputation entity <${reference}> does not exist.`);
    return t;
  }

  function tenantShape(t: StoredTenant) {
    return {
      TenantName: t.name,
      TenantId: t.id,
      TenantArn: t.arn,
      CreatedTimestamp: seconds(t.createdAt),
      Tags: t.tags,
      SendingStatus: t.sendingStatus,
      ...(t.suppressionAttributes ? { SuppressionAttributes: t.suppressionAttributes } : {}),
    };
  }

  /**
   * The identity SES resolves a From address to: the exact address identity when the account
   * holds one (verified or not), else the most specific domain identity covering it.
   */
  function resolveIdentity(from: string): StoredIdentity | undefined {
    const bare = bareAddress(from);
    const exact = identities.get(bare);
    if (exact) return exact;
    for (const d of domainAndParents(bare.slice(bare.lastIndexOf('@') + 1))) {
      const i = identities.get(d);
      if (i?.type === 'DOMAIN') return i;
    }
    return undefined;
  }

  return {
    identityArn,
    configurationSetArn,
    resolveIdentity,

    /** True when SES would let `from` send: its address or its domain (or a parent domain) is verified. */
    isVerifiedSender(from: string): boolean {
      const bare = bareAddress(from);
      const domain = bare.slice(bare.lastIndexOf('@') + 1);
      const candidates = [identities.get(bare), ...domainAndParents(domain).map((d) => identities.get(d))];
      return candidates.some((i) => i !== undefined && statusOf(i) === 'SUCCESS');
    },

    /** Makes sure each name exists as an identity that is verified already (the `verifiedIdentities` option). */
    ensureVerified(names: string[]) {
      let added = false;
      for (const raw of names) {
        const key = raw.trim().toLowerCase();
        if (identities.has(key)) continue;
        identities.set(key, { ...newIdentity(raw), forcedStatus: 'SUCCESS' });
        added = true;
      }
      if (added) changed();
    },

    setIdentityStatus(name: string, status: IdentityStatus | undefined) {
      const i = find(name);
      i.forcedStatus = status;
      changed();
    },

    /** Returns the tenant after the change (its ARN is what an EventBridge event names). */
    setTenantSendingStatus(name: string, status: TenantSendingStatus): StoredTenant {
      const t = tenant(name);
      t.sendingStatus = status;
      t.statusChangedAt = deps.now();
      changed();
      return t;
    },

    /** UpdateReputationEntityPolicy: RESOURCE entities that are tenants (the local SES keeps no other reputation entity). */
    updateReputationEntityPolicy(type: string, reference: string, body: Record<string, unknown>) {
      const t = reputationEntity(type, reference);
      const policy = body.ReputationEntityPolicy;
      if (typeof policy !== 'string' || !REPUTATION_POLICY.test(policy)) {
        throw new SesError('BadRequestException', 400, `Invalid reputation entity policy: ${String(policy)}`);
      }
      t.reputationPolicy = policy;
      changed();
      return {};
    },

    /**
     * UpdateReputationEntityCustomerManagedStatus. The local SES keeps one sending status per
     * tenant (SES keeps the customer-managed and the AWS-managed one and sends if both allow), so
     * this sets that status; answers the tenant for the EventBridge event SES sends.
     */
    updateCustomerManagedStatus(type: string, reference: string, body: Record<string, unknown>): StoredTenant {
      const t = reputationEntity(type, reference);
      const status = body.SendingStatus;
      if (status !== 'ENABLED' && status !== 'DISABLED' && status !== 'REINSTATED') {
        throw new SesError('BadRequestException', 400, `Invalid sending status: ${String(status)}`);
      }
      t.sendingStatus = status;
      t.statusChangedAt = deps.now();
      changed();
      return t;
    },

    getReputationEntity(type: string, reference: string) {
      const t = reputationEntity(type, reference);
      return {
        ReputationEntity: {
          ReputationEntityReference: t.arn,
          ReputationEntityType: 'RESOURCE',
          ReputationManagementPolicy: t.reputationPolicy ?? `arn:aws:ses:${deps.region}:aws:reputation-policy/standard`,
          AwsSesManagedStatus: { Status: t.sendingStatus, ...(t.statusChangedAt ? { LastUpdatedTimestamp: seconds(t.statusChangedAt) } : {}) },
          CustomerManagedStatus: { Status: 'ENABLED' },
          SendingStatusAggregate: t.sendingStatus === 'DISABLED' ? 'DISABLED' : 'ENABLED',
        },
      };
    },

    findTenant(name: string): StoredTenant | undefined {
      return tenants.get(name);
    },

    /** The ARNs among `arns` that are not associated with the tenant. */
    unassociated(t: StoredTenant, arns: string[]): string[] {
      return arns.filter((arn) => !associations.some((a) => a.tenantId === t.id && a.resourceArn === arn));
    },

    createEmailIdentity(body: Record<string, unknown>) {
      const i = newIdentity(body.EmailIdentity, body);
      if (identities.has(i.name)) throw new SesError('AlreadyExistsException', 400, `Email identity <${i.name}> already exists.`);
      identities.set(i.name, i);
      changed();
      if (i.type === 'EMAIL_ADDRESS') return { IdentityType: i.type, VerifiedForSendingStatus: false };
      const { LastKeyGenerationTimestamp: _, ...dkim } = dkimAttributes(i);
      return { IdentityType: i.type, VerifiedForSendingStatus: false, DkimAttributes: { ...dkim, Status: 'PENDING' } };
    },

    getEmailIdentity(name: string) {
      const i = find(name);
      const status = statusOf(i);
      return {
        IdentityType: i.type,
        FeedbackForwardingStatus: true,
        VerifiedForSendingStatus: status === 'SUCCESS',
        DkimAttributes: dkimAttributes(i),
        MailFromAttributes: mailFromAttributes(i),
        Policies: {},
        Tags: i.tags,
        ...(i.configurationSetName ? { ConfigurationSetName: i.configurationSetName } : {}),
        VerificationStatus: status,
        VerificationInfo: verificationInfo(i),
      };
    },

    listEmailIdentities() {
      return {
        EmailIdentities: [...identities.values()].map((i) => ({
          IdentityType: i.type,
          IdentityName: i.name,
          SendingEnabled: statusOf(i) === 'SUCCESS',
          VerificationStatus: statusOf(i),
        })),
      };
    },

    deleteEmailIdentity(name: string) {
      const i = find(name);
      const held = associationsOf(identityArn(i.name))[0];
      if (held) {
        throw new SesError('BadRequestException', 400, `Cannot delete <${held.resourceArn}> because it has tenant associations. Remove all tenant associations and try again.`);
      }
      identities.delete(i.name);
      changed();
      return {};
    },

    putMailFrom(name: string, body: Record<string, unknown>) {
      const i = find(name);
      const behavior = body.BehaviorOnMxFailure ?? 'USE_DEFAULT_VALUE';
      if (behavior !== 'USE_DEFAULT_VALUE' && behavior !== 'REJECT_MESSAGE') {
        throw new SesError('BadRequestException', 400, `Invalid BehaviorOnMxFailure: ${String(behavior)}`);
      }
      const raw = body.MailFromDomain;
      if (raw === undefined || raw === '') {
        i.mailFrom = undefined; // SES: no MailFromDomain turns the custom MAIL FROM off
      } else {
        const domain = String(raw).trim().toLowerCase();
        const parent = i.type === 'DOMAIN' ? i.name : i.name.slice(i.name.indexOf('@') + 1);
        if (!DOMAIN.test(domain) || !domain.endsWith(`.${parent}`)) {
          throw new SesError('BadRequestException', 400, `MailFromDomain <${domain}> must be a subdomain of the verified identity <${parent}>`);
        }
        i.mailFrom = { domain, behaviorOnMxFailure: behavior };
      }
      changed();
      return {};
    },

    createTenant(body: Record<string, unknown>) {
      const name = tenantNameOf(body);
      if (name.length > 64) throw new SesError('BadRequestException', 400, 'TenantName cannot exceed 64 characters.');
      if (!TENANT_NAME.test(name)) {
        throw new SesError('BadRequestException', 400, `Invalid tenant name <${name}>: only alphanumeric ASCII characters, '_', and '-' are allowed.`);
      }
      if (tenants.has(name)) throw new SesError('AlreadyExistsException', 400, `Tenant with name ${name} already exists in account ${LOCAL_ACCOUNT_ID}`);
      const id = `tn-${randomBytes(15).toString('hex')}`;
      const suppression = body.SuppressionAttributes as StoredTenant['suppressionAttributes'] | undefined;
      const t: StoredTenant = {
        name,
        id,
        arn: `arn:aws:ses:${deps.region}:${LOCAL_ACCOUNT_ID}:tenant/${name}/${id}`,
        createdAt: deps.now(),
        tags: tags(body.Tags),
        sendingStatus: 'ENABLED',
        ...(suppression ? { suppressionAttributes: suppression } : {}),
        reputationPolicy: `arn:aws:ses:${deps.region}:aws:reputation-policy/standard`,
      };
      tenants.set(name, t);
      changed();
      return tenantShape(t);
    },

    getTenant(body: Record<string, unknown>) {
      return { Tenant: tenantShape(tenant(tenantNameOf(body))) };
    },

    listTenants() {
      return {
        Tenants: [...tenants.values()].map((t) => ({
          TenantName: t.name,
          TenantId: t.id,
          TenantArn: t.arn,
          CreatedTimestamp: seconds(t.createdAt),
          SendingStatus: t.sendingStatus,
        })),
      };
    },

    deleteTenant(body: Record<string, unknown>) {
      const t = tenant(tenantNameOf(body));
      // SES deletes a tenant's associations with it; the resources themselves stay.
      associations = associations.filter((a) => a.tenantId !== t.id);
      tenants.delete(t.name);
      changed();
      return {};
    },

    associate(body: Record<string, unknown>) {
      const t = tenant(tenantNameOf(body));
      const ref = parseResourceArn(body.ResourceArn);
      // Identities are the resources the local SES keeps; configuration sets and templates are
      // taken on trust (it has no store of them).
      if (ref.type === 'EMAIL_IDENTITY') find(ref.name);
      if (associations.some((a) => a.tenantId === t.id && a.resourceArn === ref.arn)) {
        throw new SesError('AlreadyExistsException', 400, `Resources ${ref.arn} has already been associated with tenant ${t.name}`);
      }
      associations.push({ tenantName: t.name, tenantId: t.id, resourceArn: ref.arn, resourceType: ref.type, associatedAt: deps.now() });
      changed();
      return {};
    },

    disassociate(body: Record<string, unknown>) {
      const t = tenant(tenantNameOf(body));
      const ref = parseResourceArn(body.ResourceArn);
      // Removing an association that does not exist is a silent success on SES.
      associations = associations.filter((a) => !(a.tenantId === t.id && a.resourceArn === ref.arn));
      changed();
      return {};
    },

    listTenantResources(body: Record<string, unknown>) {
      const t = tenant(tenantNameOf(body));
      const filter = ((body.Filter ?? {}) as Record<string, unknown>).RESOURCE_TYPE;
      // Accept the SDK enum (EMAIL_IDENTITY) and the ARN segment (identity) as the filter value.
      const wanted = typeof filter === 'string' ? (ARN_TYPES[filter] ?? filter) : undefined;
      if (wanted !== undefined && !Object.values(ARN_TYPES).includes(wanted as TenantResourceType)) {
        throw new SesError('BadRequestException', 400, `Invalid resource type ${String(filter)} specified.`);
      }
      return {
        TenantResources: associations
          .filter((a) => a.tenantId === t.id && (wanted === undefined || a.resourceType === wanted))
          .sort((a, b) => a.resourceArn.localeCompare(b.resourceArn))
          .map((a) => ({ ResourceType: a.resourceType, ResourceArn: a.resourceArn })),
      };
    },

    listResourceTenants(body: Record<string, unknown>) {
      const ref = parseResourceArn(body.ResourceArn);
      return {
        ResourceTenants: associationsOf(ref.arn).map((a) => ({
          TenantName: a.tenantName,
          TenantId: a.tenantId,
          ResourceArn: a.resourceArn,
          AssociatedTimestamp: seconds(a.associatedAt),
        })),
      };
    },

    exportState(): LocalSesState {
      return structuredClone({ version: 1, identities: [...identities.values()], tenants: [...tenants.values()], associations });
    },

    importState(state: LocalSesState) {
      if (state?.version !== 1) throw new Error(`local SES: unsupported state version ${String(state?.version)}`);
      const copy = structuredClone(state);
      identities.clear();
      tenants.clear();
      for (const i of copy.identities) identities.set(i.name, i);
      for (const t of copy.tenants) tenants.set(t.name, t);
      associations = copy.associations;
      changed();
    },
  };
}

export type LocalSesRegistry = ReturnType<typeof createRegistry>;
