import { describe, expect, it } from 'vitest';
import { zeroCounts } from '../../../shared/data/counters';
import type { Job } from '../../../shared/data/jobs';
import { jobView } from '../../../shared/use-cases/read/jobs';

const job: Job = {
  id: '01JOBJOBJOBJOBJOBJOBJOBJOB',
  tenantId: 't1',
  status: 'completed',
  priority: 'normal',
  total_recipients: 5,
  created_at: '2026-11-21T10:00:00.000Z',
  updated_at: '2026-11-21T10:01:00.000Z',
  type: 'bulk',
  accepted: 3,
  failed: 1,
  unconfirmed: 1,
};

describe('jobView', () => {
  it("reports the sender's progress, including recipients whose outcome is unknown", () => {
    const counts = { ...zeroCounts(), sent: 3, delivered: 2, bounced: 1, rejected: 1, sendFailed: 1, opened: 4, uniqueOpened: 2, clicked: 1, uniqueClicked: 1 };
    const view = jobView(job, counts);
    expect(view.progress).toEqual({ accepted: 3, failed: 1, unconfirmed: 1, suppressed: 0, canceled: 0 });
    expect(view.counts).toEqual({ sent: 3, delivered: 2, bounced: 1, complained: 0, opened: 4, clicked: 1, uniqueOpened: 2, uniqueClicked: 1, failed: 2, suppressed: 0 });
    expect(view.suppressionReasons).toBeUndefined();
  });

  it('shows how many recipients were suppressed and why', () => {
    const view = jobView({ ...job, suppressed: 3, suppressedBounce: 2, suppressedManual: 1 }, { ...zeroCounts(), suppressed: 3 });
    expect(view.progress.suppressed).toBe(3);
    expect(view.counts.suppressed).toBe(3);
    expect(view.suppressionReasons).toEqual({ bounce: 2, manual: 1 });
  });

  it('shows a scheduled job\'s time, and a canceled job\'s canceled recipients and when it was canceled', () => {
    const scheduled = jobView({ ...job, status: 'scheduled', scheduledAt: '2026-12-01T09:00:00.000Z' }, zeroCounts());
    expect(scheduled).toMatchObject({ status: 'scheduled', scheduled_at: '2026-12-01T09:00:00.000Z' });
    expect(scheduled).not.toHaveProperty('canceled_at');
    const canceled = jobView({ ...job, status: 'canceled', canceled: 7, canceled_at: '2026-11-30T10:00:00.000Z' }, zeroCounts());
    expect(canceled).toMatchObject({ status: 'canceled', canceled_at: '2026-11-30T10:00:00.000Z', progress: { accepted: 3, canceled: 7 } });
    expect(jobView(job, zeroCounts())).not.toHaveProperty('scheduled_at');
  });

  it('reports zero unconfirmed for jobs the sender never marked', () => {
    const { unconfirmed: _u, ...older } = job;
    expect(jobView(older, zeroCounts()).progress.unconfirmed).toBe(0);
  });
});
