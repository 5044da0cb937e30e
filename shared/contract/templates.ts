/** /v1/templates: create, list, read, update, delete, stats. */
import * as z from 'zod';
import { Count, pageQuery, Timestamp } from './common';

export const TEMPLATE_STATUSES = ['active', 'inactive'] as const;
export const TemplateStatus = z.enum(TEMPLATE_STATUSES).meta({ id: 'TemplateStatus' });
export type TemplateStatus = z.infer<typeof TemplateStatus>;

const content = {
  name: z.string().trim().min(1).max(200),
  subject: z.string().min(1).max(998),
  html: z.string().min(1),
  text: z.string().min(1),
  status: TemplateStatus,
};

export const CreateTemplateRequest = z
  .object({ ...content, html: content.html.optional(), text: content.text.optional(), status: content.status.optional() })
  .strict()
  .refine((b) => b.html !== undefined || b.text !== undefined, { message: 'html or text is required', path: ['html'] })
  .meta({ id: 'CreateTemplateRequest', description: 'variables are `{{name}}` placeholders' });
export type CreateTemplateRequest = z.input<typeof CreateTemplateRequest>;

export const UpdateTemplateRequest = z
  .object(content)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one of name, subject, html, text, status is required' })
  .meta({ id: 'UpdateTemplateRequest' });
export type UpdateTemplateRequest = z.input<typeof UpdateTemplateRequest>;

export const Template = z
  .object({
    id: z.string(),
    name: z.string(),
    subject: z.string(),
    html: z.string().optional(),
    text: z.string().optional(),
    status: TemplateStatus,
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .strict()
  .meta({ id: 'Template' });
export type Template = z.infer<typeof Template>;

export const TemplatesQuery = pageQuery(100, 20);
export const TemplateList = z.object({ templates: z.array(Template), nextCursor: z.string().optional() }).strict().meta({ id: 'TemplateList' });
export type TemplateList = z.infer<typeof TemplateList>;

export const TemplateStats = z
  .object({
    totalEmailsSentViaTemplates: Count,
    mostUsed: z.array(z.object({ id: z.string(), name: z.string(), use_count: Count }).strict()),
  })
  .strict()
  .meta({ id: 'TemplateStats' });
export type TemplateStats = z.infer<typeof TemplateStats>;
