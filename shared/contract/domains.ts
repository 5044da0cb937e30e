/** /v1/domains (tenant) and the operator's domain routes. */
import * as z from 'zod';
import { DOMAIN_STATUSES } from '../rules/domains';
import { OPAQUE_PAGE_FIELDS, pageQuery, Timestamp } from './common';

export const DomainStatus = z.enum(DOMAIN_STATUSES).meta({ id: 'DomainStatus', description: "SES's verification status of the identity" });
export type DomainStatus = z.infer<typeof DomainStatus>;

const domainName = z.string().max(300).meta({ description: 'e.g. `mail.example.com`; IDNs are stored in punycode, lower case' });

export const CreateDomainRequest = z.object({ domain: domainName }).strict().meta({ id: 'CreateDomainRequest' });
export type CreateDomainRequest = z.input<typeof CreateDomainRequest>;

export const AssignDomainRequest = z
  .object({
    domain: domainName,
    verified: z.literal(true).optional().meta({ description: 'the operator already verified this identity in SES: assign it as it is (never deleted from SES here)' }),
  })
  .strict()
  .meta({ id: 'AssignDomainRequest' });
export type AssignDomainRequest = z.input<typeof AssignDomainRequest>;

export const DnsRecord = z
  .object({
    type: z.enum(['CNAME', 'MX', 'TXT']),
    name: z.string(),
    value: z.string(),
    purpose: z.enum(['dkim', 'mail_from_mx', 'mail_from_spf', 'dmarc']),
  })
  .strict()
  .meta({ id: 'DnsRecord' });
export type DnsRecord = z.infer<typeof DnsRecord>;

export const Domain = z
  .object({
    id: z.string(),
    domain: z.string(),
    status: DomainStatus,
    records: z.array(DnsRecord).meta({ description: 'to publish in DNS: three DKIM CNAMEs, MAIL FROM MX and SPF when the stage uses a MAIL FROM subdomain, a DMARC suggestion' }),
    created_at: Timestamp,
    verified_at: Timestamp.optional(),
    last_checked_at: Timestamp.optional(),
  })
  .strict()
  .meta({ id: 'Domain' });
export type Domain = z.infer<typeof Domain>;

export const AdminDomain = Domain.extend({ tenantId: z.string(), shared: z.boolean() }).strict().meta({ id: 'AdminDomain' });
export type AdminDomain = z.infer<typeof AdminDomain>;

export const DomainsQuery = pageQuery(100, 50);
export const DomainList = z.object({ domains: z.array(Domain), nextCursor: z.string().optional() }).strict().meta({ id: 'DomainList' });
export type DomainList = z.infer<typeof DomainList>;

export const AdminDomainsQuery = z
  .object({
    status: DomainStatus.optional(),
    ...OPAQUE_PAGE_FIELDS,
  })
  .strict()
  .transform((q) => ({ ...q, limit: q.limit ?? 50 }));
export const AdminDomainList = z.object({ domains: z.array(AdminDomain), nextCursor: z.string().optional() }).strict().meta({ id: 'AdminDomainList' });
export type AdminDomainList = z.infer<typeof AdminDomainList>;
