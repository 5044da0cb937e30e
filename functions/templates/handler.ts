import { httpHandler } from '../../shared/adapters/http/http-handler';
import { createTemplate, deleteTemplate, getTemplate, listTemplates, updateTemplate } from '../../shared/data/templates';
import { NotFoundError, PayloadTooLargeError } from '../../shared/rules/errors';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getTemplateStats } from '../../shared/use-cases/read/template-stats';
import { loadTenant } from '../../shared/use-cases/read/tenant-context';
import { templateView } from '../../shared/use-cases/read/views';
import { MAX_CONTENT_BYTES } from '../../shared/use-cases/sending/requests';

const deps = readDepsFromEnv();

/** Same ceiling as a job's content, so a template always fits the job that uses it (and a 400 KB item). */
function checkSize(b: { subject?: string; html?: string; text?: string }): void {
  const bytes = [b.subject, b.html, b.text].reduce((n, s) => n + Buffer.byteLength(s ?? ''), 0);
  if (bytes > MAX_CONTENT_BYTES) throw new PayloadTooLargeError(`subject, html and text together exceed ${MAX_CONTENT_BYTES} bytes`);
}

export const handler = httpHandler({
  'POST /v1/templates': async ({ tenantId, body, now }) => {
    checkSize(body);
    const { limits } = await loadTenant(deps, tenantId);
    return templateView(await createTemplate(deps.db, tenantId, body, { templatesLimit: limits.templatesAllocated, now }));
  },
  'GET /v1/templates': async ({ tenantId, query }) => {
    const page = await listTemplates(deps.db, tenantId, query);
    return { templates: page.templates.map(templateView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  },
  'GET /v1/templates/stats': ({ tenantId }) => getTemplateStats(deps.db, tenantId),
  'GET /v1/templates/{id}': async ({ tenantId, params }) => {
    const template = await getTemplate(deps.db, tenantId, params.id);
    if (!template) throw new NotFoundError('Template not found');
    return templateView(template);
  },
  'PATCH /v1/templates/{id}': async ({ tenantId, params, body, now }) => {
    checkSize(body);
    // The merged template must fit too: its other fields plus this change (else a 500 from
    // DynamoDB's item limit, or a template no job could use).
    return templateView(await updateTemplate(deps.db, tenantId, params.id, body, now, checkSize));
  },
  'DELETE /v1/templates/{id}': async ({ tenantId, params }) => {
    await deleteTemplate(deps.db, tenantId, params.id);
  },
});
