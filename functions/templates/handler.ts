import * as z from 'zod';
import { httpHandler, parseBody, parseQuery, parseWith, requireTenant } from '../../shared/adapters/http/http-handler';
import { noContent, ok } from '../../shared/adapters/http/respond';
import { createTemplate, deleteTemplate, getTemplate, listTemplates, TEMPLATE_STATUSES, updateTemplate } from '../../shared/data/templates';
import { NotFoundError, PayloadTooLargeError } from '../../shared/rules/errors';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { idSchema, noQuery, pageQuery } from '../../shared/use-cases/read/params';
import { getTemplateStats } from '../../shared/use-cases/read/template-stats';
import { loadTenant } from '../../shared/use-cases/read/tenant-context';
import { templateView } from '../../shared/use-cases/read/views';
import { MAX_CONTENT_BYTES } from '../../shared/use-cases/sending/requests';

/** Exported so the read benchmark can meter this function's DynamoDB client. */
export const deps = readDepsFromEnv();

/** Same ceiling as a job's content, so a template always fits the job that uses it (and a 400 KB item). */
const MAX_CONTENT = MAX_CONTENT_BYTES;

const content = {
  name: z.string().trim().min(1).max(200),
  subject: z.string().min(1).max(998),
  html: z.string().min(1),
  text: z.string().min(1),
  status: z.enum(TEMPLATE_STATUSES),
};

const createBody = z
  .object({ ...content, html: content.html.optional(), text: content.text.optional(), status: content.status.optional() })
  .strict()
  .refine((b) => b.html !== undefined || b.text !== undefined, { message: 'html or text is required', path: ['html'] });

const updateBody = z
  .object(content)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one of name, subject, html, text, status is required' });

const pathParams = z.object({ id: idSchema });

function checkSize(b: { subject?: string; html?: string; text?: string }): void {
  const bytes = [b.subject, b.html, b.text].reduce((n, s) => n + Buffer.byteLength(s ?? ''), 0);
  if (bytes > MAX_CONTENT) throw new PayloadTooLargeError(`subject, html and text together exceed ${MAX_CONTENT} bytes`);
}
const listQuery = pageQuery(100, 20);

export const handler = httpHandler({
  'POST /v1/templates': async (req) => {
    const tenantId = requireTenant(req.caller);
    parseQuery(req, noQuery);
    const body = parseBody(req, createBody);
    checkSize(body);
    const { limits } = await loadTenant(deps, tenantId);
    const template = await createTemplate(deps.db, tenantId, body, { templatesLimit: limits.templatesAllocated, now: req.now });
    return ok(templateView(template), 201);
  },
  'GET /v1/templates': async (req) => {
    const tenantId = requireTenant(req.caller);
    const page = await listTemplates(deps.db, tenantId, parseQuery(req, listQuery));
    return ok({ templates: page.templates.map(templateView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) });
  },
  'GET /v1/templates/stats': async (req) => {
    const tenantId = requireTenant(req.caller);
    parseQuery(req, noQuery);
    return ok(await getTemplateStats(deps.db, tenantId));
  },
  'GET /v1/templates/{id}': async (req) => {
    const tenantId = requireTenant(req.caller);
    const { id } = parseWith(pathParams, req.pathParameters);
    parseQuery(req, noQuery);
    const template = await getTemplate(deps.db, tenantId, id);
    if (!template) throw new NotFoundError('Template not found');
    return ok(templateView(template));
  },
  'PATCH /v1/templates/{id}': async (req) => {
    const tenantId = requireTenant(req.caller);
    const { id } = parseWith(pathParams, req.pathParameters);
    parseQuery(req, noQuery);
    const body = parseBody(req, updateBody);
    checkSize(body);
    // The merged template must fit too: its other fields plus this change (else a 500 from
    // DynamoDB's item limit, or a template no job could use).
    return ok(templateView(await updateTemplate(deps.db, tenantId, id, body, req.now, checkSize)));
  },
  'DELETE /v1/templates/{id}': async (req) => {
    const tenantId = requireTenant(req.caller);
    const { id } = parseWith(pathParams, req.pathParameters);
    parseQuery(req, noQuery);
    await deleteTemplate(deps.db, tenantId, id);
    return noContent();
  },
});
