/**
 * The read routes over counters written the production way: SES notifications through the
 * real ingester and aggregator (test/support/ingest.ts), never by hand. Two tenants; every
 * figure below is the ground truth of the events fed in.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Job, putNewJob } from '../../../shared/data/jobs';
import { createTenant } from '../../../shared/data/tenants';
import { ulid } from '../../../shared/rules/ids';
import { bounce, click, complaint, delivery, open, reject, renderingFailure, send, sesMessageId } from '../../fixtures/ses-events';
import { ingestSesEvents, stopIngestPollers } from '../../support/ingest';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from './support';

const t = useTestTable();
const NOW = new Date('2026-03-10T15:30:00.000Z');
const at = (iso: string) => new Date(iso);

let a: { id: string; key: string };
let b: { id: string; key: string };
let templateId: string;
let jobId: string;

beforeAll(async () => {
  await useApiEnv();
  // Only Date is faked: the routes compute "today" and the billing period from it.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  const plans = new InMemoryUsagePlans();
  const ca = await createTenant(t.db, plans, { name: 'A', plan: 'starter' });
  const cb = await createTenant(t.db, plans, { name: 'B', plan: 'pro', billingAnchorDay: 5 });
  a = { id: ca.tenant.id, key: ca.apiKey };
  b = { id: cb.tenant.id, key: cb.apiKey };
  const tpl = await call({ method: 'POST', resource: '/v1/templates', key: a.key, body: { name: 'welcome', subject: 'Hi', text: 'Hello {{name}}' } });
  templateId = tpl.body.data.id;
  jobId = ulid();
  const job: Job = {
    id: jobId,
    tenantId: a.id,
    status: 'completed',
    priority: 'high',
    total_recipients: 3,
    created_at: '2026-03-10T10:00:00.000Z',
    updated_at: '2026-03-10T10:06:00.000Z',
    type: 'bulk',
    templateId,
    accepted: 3,
    failed: 0,
  };
  await putNewJob(t.db, job);

  const tagsA = { tenant: a.id };
  const m1 = {
    messageId: sesMessageId('m1'),
    at: at('2026-03-10T10:05:00Z'),
    destination: ['x1@example.com', 'x2@example.com', 'x3@example.com'],
    tags: { ...tagsA, job: jobId, template: templateId },
  };
  const m2 = { messageId: sesMessageId('m2'), at: at('2026-03-09T08:00:00Z'), destination: ['y1@example.com', 'y2@example.com'], tags: tagsA };
  const m3 = {
    messageId: sesMessageId('m3'),
    at: at('2026-02-25T12:00:00Z'),
    destination: ['z1@example.com', 'z2@example.com', 'z3@example.com', 'z4@example.com'],
    tags: tagsA,
  };
  const m4 = { messageId: sesMessageId('m4'), at: at('2026-03-10T11:00:00Z'), destination: ['r@example.com'], tags: tagsA };
  const m5 = { messageId: sesMessageId('m5'), at: at('2026-03-10T09:00:00Z'), destination: ['f@example.com'], tags: tagsA };
  const m6 = {
    messageId: sesMessageId('m6'),
    at: at('2026-03-10T12:00:00Z'),
    destination: ['b1@example.com', 'b2@example.com', 'b3@example.com', 'b4@example.com', 'b5@example.com'],
    tags: { tenant: b.id },
  };
  const d1 = delivery(m1, { recipients: ['x1@example.com', 'x2@example.com'], at: at('2026-03-10T10:06:00Z') });
  const events = [
    send(m1),
    d1,
    d1, // delivered twice by SNS: counts once
    bounce(m1, { recipients: ['x3@example.com'], at: at('2026-03-10T10:07:00Z'), bounceType: 'Permanent' }),
    complaint(m1, { recipients: ['x1@example.com'], at: at('2026-03-10T10:30:00Z') }),
    open(m1, { at: at('2026-03-10T11:00:00Z') }),
    open(m1, { at: at('2026-03-10T12:00:00Z'), ipAddress: '192.0.2.9' }),
    click(m1, { at: at('2026-03-10T12:30:00Z'), link: 'https://example.com/a' }),
    send(m2),
    delivery(m2, { recipients: m2.destination, at: at('2026-03-09T08:01:00Z') }),
    send(m3),
    bounce(m3, { recipients: ['z4@example.com'], at: at('2026-02-25T12:01:00Z'), bounceType: 'Transient' }),
    reject(m4),
    renderingFailure(m5),
    send(m6),
    delivery(m6, { recipients: m6.destination, at: at('2026-03-10T12:01:00Z') }),
  ];
  await ingestSesEvents(t.db, events);
});

afterAll(async () => {
  vi.useRealTimers();
  await stopIngestPollers();
});

describe('dashboard and quota', () => {
  it('shows seed 000 figures for the tenant only', async () => {
    const r = await call({ method: 'GET', resource: '/v1/dashboard', key: a.key });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({
      quota: { used: 5, allocated: 50_000, remaining: 49_995, resetDate: '2026-04-01T00:00:00.000Z' },
      templates: { used: 1, active: 1, allocated: 100, remaining: 99 },
      last30Days: { sent: 9, delivered: 4, bounced: 2, complained: 1, opened: 2, clicked: 1, uniqueOpened: 1, uniqueClicked: 1, failed: 2, suppressed: 0 },
      recentJobs: [{ id: jobId, total_recipients: 3, status: 'completed', priority: 'high', created_at: '2026-03-10T10:00:00.000Z' }],
    });
  });

  it('quota: period, day and month', async () => {
    const r = await call({ method: 'GET', resource: '/v1/dashboard/quota', key: a.key });
    expect(r.body.data).toEqual({
      used: 5,
      allocated: 50_000,
      remaining: 49_995,
      dailyUsed: 3,
      dailyLimit: 1667,
      monthlyUsed: 5,
      monthlyLimit: 50_000,
      percentageUsed: 0.01,
      resetDate: '2026-04-01T00:00:00.000Z',
    });
  });

  it("uses the tenant's billing anchor day", async () => {
    const r = await call({ method: 'GET', resource: '/v1/dashboard/quota', key: b.key });
    expect(r.body.data).toMatchObject({ used: 5, monthlyUsed: 5, dailyUsed: 5, resetDate: '2026-04-05T00:00:00.000Z' });
    const d = await call({ method: 'GET', resource: '/v1/dashboard', key: b.key });
    expect(d.body.data.last30Days).toEqual({ sent: 5, delivered: 5, bounced: 0, complained: 0, opened: 0, clicked: 0, uniqueOpened: 0, uniqueClicked: 0, failed: 0, suppressed: 0 });
    expect(d.body.data.recentJobs).toEqual([]);
    expect(d.body.data.templates.used).toBe(0);
  });
});

describe('usage', () => {
  it('7d: seed 003 shape, history with zeros, peak, average, today', async () => {
    const r = await call({ method: 'GET', resource: '/v1/usage', key: a.key, query: { period: '7d' } });
    expect(r.body.data).toEqual({
      plan: 'starter',
      rate_limit: { requests_per_second: 50, burst_limit: 100 },
      usage: {
        emails_sent: 5,
        emails_limit: 50_000,
        emails_delivered: 4,
        emails_bounced: 3,
        period_start: '2026-03-01T00:00:00.000Z',
        period_end: '2026-03-31T00:00:00.000Z',
      },
      daily_stats: {
        today: 3,
        peak: 3,
        average: 1,
        history: [
          { date: '2026-03-04', count: 0 },
          { date: '2026-03-05', count: 0 },
          { date: '2026-03-06', count: 0 },
          { date: '2026-03-07', count: 0 },
          { date: '2026-03-08', count: 0 },
          { date: '2026-03-09', count: 2 },
          { date: '2026-03-10', count: 3 },
        ],
      },
    });
  });

  it('defaults to 30d and reaches back before the billing period', async () => {
    const r = await call({ method: 'GET', resource: '/v1/usage', key: a.key });
    const history = r.body.data.daily_stats.history as { date: string; count: number }[];
    expect(history).toHaveLength(30);
    expect(history[0]?.date).toBe('2026-02-09');
    expect(history.find((h) => h.date === '2026-02-25')?.count).toBe(4);
    expect(r.body.data.daily_stats.peak).toBe(4);
    expect(r.body.data.daily_stats.average).toBe(0);
    expect(r.body.data.usage.emails_sent).toBe(5);
    const r90 = await call({ method: 'GET', resource: '/v1/usage', key: a.key, query: { period: '90d' } });
    expect(r90.body.data.daily_stats.history).toHaveLength(90);
  });

  it('refuses any other period, naming the parameter', async () => {
    for (const period of ['1d', '30', '365d', '', '7D']) {
      const r = await call({ method: 'GET', resource: '/v1/usage', key: a.key, query: { period } });
      expect(r.status, period).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'ValidationError', field: 'period' });
    }
  });
});

describe('stats', () => {
  it('1d: hourly points and the range rates', async () => {
    const r = await call({ method: 'GET', resource: '/v1/stats', key: a.key, query: { range: '1d' } });
    const s = r.body.data;
    expect(s.points).toHaveLength(24);
    expect(s.from).toBe('2026-03-09T16:00:00.000Z');
    expect(s.points.find((p: { hour: string }) => p.hour === '2026-03-10T10:00:00.000Z')).toEqual({
      hour: '2026-03-10T10:00:00.000Z',
      sends: 3,
      deliveries: 2,
      rejects: 0,
      bounces: 1,
      complaints: 1,
      opens: 0,
      clicks: 0,
      uniqueOpens: 0,
      uniqueClicks: 0,
    });
    // m1's first open (11:00) is its unique open; the second (12:00) counts only in opens.
    expect(s.points.find((p: { hour: string }) => p.hour === '2026-03-10T11:00:00.000Z')).toMatchObject({ opens: 1, uniqueOpens: 1 });
    expect(s.points.find((p: { hour: string }) => p.hour === '2026-03-10T12:00:00.000Z')).toMatchObject({ opens: 1, uniqueOpens: 0, clicks: 1, uniqueClicks: 1 });
    expect(s.totals).toEqual({ sends: 3, deliveries: 2, rejects: 1, bounces: 1, complaints: 1, opens: 2, clicks: 1, uniqueOpens: 1, uniqueClicks: 1 });
    expect(s.rates).toEqual({ rejectRate: 0.25, bounceRate: 0.333333, complaintRate: 0.333333 });
  });

  it('2d reaches yesterday; 14d is the widest range', async () => {
    const r = await call({ method: 'GET', resource: '/v1/stats', key: a.key, query: { range: '2d' } });
    expect(r.body.data.totals.sends).toBe(5);
    const wide = await call({ method: 'GET', resource: '/v1/stats', key: a.key, query: { range: '14d' } });
    expect(wide.body.data.points).toHaveLength(336);
    expect(wide.body.data.totals.sends).toBe(9);
    for (const range of ['0d', '15d', '1', 'd', '1w']) {
      const bad = await call({ method: 'GET', resource: '/v1/stats', key: a.key, query: { range } });
      expect(bad.status, range).toBe(400);
      expect(bad.body.error.field).toBe('range');
    }
  });
});

describe('reputation', () => {
  it('hard bounces and complaints over the representative volume', async () => {
    const r = await call({ method: 'GET', resource: '/v1/reputation', key: a.key });
    expect(r.body.data).toEqual({
      status: 'At risk',
      bounceRate: { rate: 0.111111, status: 'At risk' },
      complaintRate: { rate: 0.111111, status: 'At risk' },
      representativeVolume: 9,
      period: { start: '2025-12-11T00:00:00.000Z', end: NOW.toISOString(), days: 90 },
      // 9 sends are below the policy's minVolume (200): at risk, but not paused.
      sending: { status: 'active' },
    });
    const rb = await call({ method: 'GET', resource: '/v1/reputation', key: b.key });
    expect(rb.body.data).toMatchObject({ status: 'Healthy', representativeVolume: 5 });
  });
});

describe('jobs and templates with counts', () => {
  it('per-job counts come from the ingested events', async () => {
    const r = await call({ method: 'GET', resource: '/v1/jobs/{id}', pathParameters: { id: jobId }, key: a.key });
    expect(r.body.data.counts).toEqual({ sent: 3, delivered: 2, bounced: 1, complained: 1, opened: 2, clicked: 1, uniqueOpened: 1, uniqueClicked: 1, failed: 0, suppressed: 0 });
    expect(r.body.data.templateId).toBe(templateId);
    const forged = await call({ method: 'GET', resource: '/v1/jobs/{id}', pathParameters: { id: jobId }, key: b.key });
    expect(forged.status).toBe(404);
  });

  it('template stats', async () => {
    const r = await call({ method: 'GET', resource: '/v1/templates/stats', key: a.key });
    expect(r.body.data).toEqual({ totalEmailsSentViaTemplates: 3, mostUsed: [{ id: templateId, name: 'welcome', use_count: 3 }] });
    const rb = await call({ method: 'GET', resource: '/v1/templates/stats', key: b.key });
    expect(rb.body.data).toEqual({ totalEmailsSentViaTemplates: 0, mostUsed: [] });
  });
});
